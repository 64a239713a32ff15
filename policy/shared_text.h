// The bytes of a policy file, immutable and shared rather than copied: a
// reload takes thousands of unchanged texts from the cache of what it read
// (source_cache.h), and each costs a reference, not a copy. Reads as a
// std::string (or a std::string_view); two texts are equal when they are
// the same object or hold the same bytes.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace ringfence::policy {

class SharedText {
 public:
  SharedText() = default;
  SharedText(std::string text)  // NOLINT(google-explicit-constructor): a text is its bytes
      : p_(std::make_shared<const std::string>(std::move(text))) {}
  SharedText(const char* text) : SharedText(std::string(text)) {}  // NOLINT: as above

  const std::string& str() const { return p_ ? *p_ : none(); }
  operator const std::string&() const { return str(); }  // NOLINT(google-explicit-constructor)
  operator std::string_view() const { return str(); }    // NOLINT(google-explicit-constructor)
  size_t size() const { return str().size(); }
  bool empty() const { return str().empty(); }
  const char* data() const { return str().data(); }
  char operator[](size_t i) const { return str()[i]; }
  char back() const { return str().back(); }
  bool sameObject(const SharedText& o) const { return p_ == o.p_; }

  friend bool operator==(const SharedText& a, const SharedText& b) {
    return a.p_ == b.p_ || a.str() == b.str();
  }
  friend bool operator==(const SharedText& a, std::string_view b) { return a.str() == b; }
  friend bool operator==(const SharedText& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const SharedText& a, const char* b) { return a.str() == b; }

 private:
  static const std::string& none() {
    static const std::string empty;
    return empty;
  }
  std::shared_ptr<const std::string> p_;
};

}  // namespace ringfence::policy
