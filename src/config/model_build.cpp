#include "twind/config/model_build.hpp"

#include "twind/model/linear.hpp"
#include "twind/model/rotating_machine.hpp"

namespace twind::config {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::shared_ptr<const model::Model> build_model(const ModelSpec& m) {
  if (m.kind == ModelKind::rotating_machine) {
    return model::make_rotating_machine(m.id, m.machine);
  }
  if (m.kind == ModelKind::transfer_function) {
    return model::make_transfer_function(m.id, m.num, m.den);
  }
  if (m.domain == Domain::discrete) {
    return model::make_discrete_state_space(m.id, m.a, m.b, m.c, m.d, m.dt);
  }
  return model::make_continuous_state_space(m.id, m.a, m.b, m.c, m.d);
}

std::string next_version(std::string_view version) {
  std::size_t end = version.size();
  while (end > 0 && !is_digit(version[end - 1])) --end;
  if (end == 0) return std::string(version) + ".1";
  std::size_t begin = end;
  while (begin > 0 && is_digit(version[begin - 1])) --begin;
  // Decimal addition on the digits themselves: any length, no overflow.
  std::string digits(version.substr(begin, end - begin));
  std::size_t i = digits.size();
  while (i > 0 && digits[i - 1] == '9') digits[--i] = '0';
  if (i == 0) {
    digits.insert(digits.begin(), '1');
  } else {
    ++digits[i - 1];
  }
  return std::string(version.substr(0, begin)) + digits + std::string(version.substr(end));
}

}  // namespace twind::config
