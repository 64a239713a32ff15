// The bytes of a set element's key, held inline: a plan has hundreds of
// thousands of elements, and two heap blocks each (low and high) were the
// bulk of compiling, copying and freeing it. The longest key is
// IPv6 . IPv6 . proto . port (35 bytes).
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <vector>

namespace ringfence::policy {

class KeyBytes {
 public:
  static constexpr size_t kCapacity = 40;

  KeyBytes() = default;
  KeyBytes(std::initializer_list<uint8_t> bytes) { assign(bytes.begin(), bytes.end()); }
  template <typename It>
  KeyBytes(It first, It last) {
    assign(first, last);
  }

  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const uint8_t* begin() const { return bytes_.data(); }
  const uint8_t* end() const { return bytes_.data() + size_; }
  uint8_t* begin() { return bytes_.data(); }
  uint8_t* end() { return bytes_.data() + size_; }
  uint8_t operator[](size_t i) const { return bytes_[i]; }
  operator std::span<const uint8_t>() const { return {data(), size_}; }
  std::vector<uint8_t> vector() const { return {begin(), end()}; }

  void clear() { size_ = 0; }
  void push_back(uint8_t b) {
    grow(1);
    bytes_[size_++] = b;
  }
  // Appends (`at` must be end(): keys are built front to back).
  template <typename It>
  void insert(const uint8_t* at, It first, It last) {
    if (at != end()) throw std::logic_error("KeyBytes::insert: only at the end");
    size_t n = static_cast<size_t>(std::distance(first, last));
    grow(n);
    std::copy(first, last, bytes_.data() + size_);
    size_ += n;
  }
  template <typename It>
  void assign(It first, It last) {
    clear();
    insert(end(), first, last);
  }
  void assign(size_t n, uint8_t value) {
    clear();
    grow(n);
    std::fill_n(bytes_.data(), n, value);
    size_ = n;
  }

  bool operator==(const KeyBytes& o) const {
    return size_ == o.size_ && std::equal(begin(), end(), o.begin());
  }
  std::strong_ordering operator<=>(const KeyBytes& o) const {
    return std::lexicographical_compare_three_way(begin(), end(), o.begin(), o.end());
  }
  friend bool operator==(const KeyBytes& k, const std::vector<uint8_t>& v) {
    return k.size() == v.size() && std::equal(k.begin(), k.end(), v.begin());
  }

 private:
  void grow(size_t n) {
    if (size_ + n > kCapacity) throw std::length_error("set element key longer than 40 bytes");
  }
  std::array<uint8_t, kCapacity> bytes_{};
  uint8_t size_ = 0;
};

}  // namespace ringfence::policy
