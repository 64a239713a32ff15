// The bytes of a policy file, immutable and shared rather than copied: a
// reload takes thousands of unchanged texts from the cache of what it read
// (source_cache.h), and each costs a reference, not a copy. Reads as a
// std::string (or a std::string_view); two texts are equal when they are
// the same object or hold the same bytes.
#pragma once

#include <atomic>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace ringfence::policy {

class SharedText {
 public:
  SharedText() = default;
  SharedText(std::string text)  // NOLINT(google-explicit-constructor): a text is its bytes
      : p_(new Block(std::move(text))) {}
  SharedText(const char* text) : SharedText(std::string(text)) {}  // NOLINT: as above
  SharedText(const SharedText& o) noexcept : p_(o.p_) {
    if (p_) p_->holders.fetch_add(1, std::memory_order_relaxed);
  }
  SharedText(SharedText&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  SharedText& operator=(SharedText o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~SharedText() {
    if (p_ && p_->holders.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p_;
  }

  const std::string& str() const { return p_ ? p_->text : none(); }
  operator const std::string&() const { return str(); }  // NOLINT(google-explicit-constructor)
  operator std::string_view() const { return str(); }    // NOLINT(google-explicit-constructor)
  size_t size() const { return str().size(); }
  bool empty() const { return str().empty(); }
  const char* data() const { return str().data(); }
  char operator[](size_t i) const { return str()[i]; }
  char back() const { return str().back(); }
  bool sameObject(const SharedText& o) const { return p_ == o.p_; }
  // Fetches the text ahead of reading it.
  void prefetch() const {
    if (p_) __builtin_prefetch(p_);
  }

  friend bool operator==(const SharedText& a, const SharedText& b) {
    return a.p_ == b.p_ || a.str() == b.str();
  }
  friend bool operator==(const SharedText& a, std::string_view b) { return a.str() == b; }
  friend bool operator==(const SharedText& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const SharedText& a, const char* b) { return a.str() == b; }
  friend std::ostream& operator<<(std::ostream& out, const SharedText& t) { return out << t.str(); }

 private:
  struct Block {
    explicit Block(std::string t) : text(std::move(t)) {}
    std::atomic<size_t> holders{1};
    const std::string text;
  };
  static const std::string& none() {
    static const std::string empty;
    return empty;
  }
  Block* p_ = nullptr;
};
static_assert(sizeof(SharedText) == sizeof(void*));

}  // namespace ringfence::policy
