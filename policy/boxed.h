// An optional value held in a heap block of its own: the size of a pointer
// where std::optional would hold the whole value in place. For a field most
// objects leave empty among hundreds of thousands (a device's part of the
// plan and its inbound limit). Copies copy the value; equal when both are
// empty or both hold equal values, as std::optional.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace ringfence::policy {

template <typename T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(std::nullopt_t) {}     // NOLINT(google-explicit-constructor): as std::optional
  Boxed(std::optional<T> v) {  // NOLINT(google-explicit-constructor): as std::optional
    if (v) p_ = std::make_unique<T>(std::move(*v));
  }
  Boxed(const Boxed& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;

  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }
  template <typename... Args>
  T& emplace(Args&&... args) {
    p_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *p_;
  }
  void reset() { p_.reset(); }

  friend bool operator==(const Boxed& a, const Boxed& b) {
    return a && b ? *a == *b : a.has_value() == b.has_value();
  }

 private:
  std::unique_ptr<T> p_;
};
static_assert(sizeof(Boxed<int>) == sizeof(void*));

}  // namespace ringfence::policy
