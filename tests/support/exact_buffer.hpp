// Test inputs in heap blocks of their exact size, so AddressSanitizer catches any read past the
// end (a std::string would hide it behind its terminator and spare capacity).
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace twind::testing {

class ExactBuffer {
 public:
  explicit ExactBuffer(std::string_view text)
      : data_(new char[text.size() == 0 ? 1 : text.size()]), size_(text.size()) {
    if (size_ != 0) std::memcpy(data_.get(), text.data(), size_);
  }
  [[nodiscard]] std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_;
};

}  // namespace twind::testing
