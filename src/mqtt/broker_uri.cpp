#include "twind/mqtt/broker_uri.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <system_error>
#include <utility>

namespace twind::mqtt {
namespace {

struct SchemeInfo {
  std::string_view name;
  BrokerUri::Scheme scheme;
  int default_port;
  bool tls;
  bool has_path;
};

constexpr std::array<SchemeInfo, 6> kSchemes{{
    {"tcp", BrokerUri::Scheme::tcp, 1883, false, false},
    {"mqtt", BrokerUri::Scheme::mqtt, 1883, false, false},
    {"ssl", BrokerUri::Scheme::ssl, 8883, true, false},
    {"mqtts", BrokerUri::Scheme::mqtts, 8883, true, false},
    {"ws", BrokerUri::Scheme::ws, 80, false, true},
    {"wss", BrokerUri::Scheme::wss, 443, true, true},
}};

// ASCII by hand: <cctype> depends on the locale, and a URI's rules must not.
constexpr char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == y; });
}

const SchemeInfo* find_scheme(std::string_view name) noexcept {
  const auto it = std::find_if(kSchemes.begin(), kSchemes.end(), [name](const SchemeInfo& s) {
    return equal_ignoring_case(name, s.name);
  });
  return it == kSchemes.end() ? nullptr : &*it;
}

const SchemeInfo& info(BrokerUri::Scheme scheme) noexcept {
  return kSchemes[static_cast<std::size_t>(scheme)];
}

// 1..65535 written in decimal digits only (no sign, no blanks); 0 otherwise.
int port_number(std::string_view text) noexcept {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  unsigned long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > 65535) {
    return 0;
  }
  return static_cast<int>(value);
}

ParsedBrokerUri refused(std::string expected) {
  return ParsedBrokerUri{std::nullopt, std::move(expected)};
}

}  // namespace

static_assert(static_cast<std::size_t>(BrokerUri::Scheme::wss) + 1 == kSchemes.size());

ParsedBrokerUri BrokerUri::parse(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    return refused("a URI like tcp://127.0.0.1:1883 (scheme tcp, ssl, mqtt, mqtts, ws or wss)");
  }
  const std::string_view scheme = text.substr(0, sep);
  const SchemeInfo* known = find_scheme(scheme);
  if (known == nullptr) {
    return refused("a URI with the scheme tcp://, ssl://, mqtt://, mqtts://, ws:// or wss://");
  }
  const std::string_view rest = text.substr(sep + 3);
  if (rest.find_first_of(" \t\r\n") != std::string_view::npos)
    return refused("a URI without spaces");
  if (std::any_of(rest.begin(), rest.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; })) {
    // Paho takes a C string: a NUL would cut the URI short, silently.
    return refused("a URI without control characters");
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos && !known->has_path) {
    return refused("no path after the host (only ws:// and wss:// URIs have one)");
  }

  std::string_view host = authority;
  std::optional<std::string_view> port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return refused("a closing ] after the IPv6 address");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return refused("nothing but :port after the IPv6 address");
      port = after.substr(1);
    }
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    // Two colons: an IPv6 address without brackets, whose last group could be read as a port.
    if (authority.find(':', colon + 1) != std::string_view::npos) {
      return refused("an IPv6 address in brackets, like tcp://[::1]:1883");
    }
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return refused("a host name or address after " + std::string(scheme) + "://");
  const int port_value = port ? port_number(*port) : known->default_port;
  if (port_value == 0) return refused("a port from 1 to 65535");

  BrokerUri uri;
  uri.scheme_ = known->scheme;
  uri.host_ = host;
  uri.port_ = port_value;
  if (slash != std::string_view::npos) uri.path_ = rest.substr(slash);
  uri.paho_uri_.reserve(text.size());
  uri.paho_uri_ = known->name;
  uri.paho_uri_ += text.substr(sep);
  return ParsedBrokerUri{std::move(uri), {}};
}

std::string_view BrokerUri::scheme_name() const noexcept {
  return info(scheme_).name;
}

bool BrokerUri::tls() const noexcept {
  return info(scheme_).tls;
}

std::vector<std::string> split_broker_uris(std::string_view list) {
  std::vector<std::string> out;
  while (true) {
    const std::size_t comma = list.find(',');
    out.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) return out;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace twind::mqtt
