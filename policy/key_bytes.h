// The bytes of a set element's key. A plan has millions of elements at
// scale, each with a key and, in an interval set, an upper end: a key of up
// to 23 bytes (every IPv4 key and an IPv6 address alone) is held inline in
// 24 bytes; a longer one (IPv6 concatenations, up to
// IPv6 . IPv6 . proto . port, 40 bytes) in a heap block of its own.
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ringfence::policy {

class KeyBytes {
 public:
  static constexpr size_t kCapacity = 40;
  static constexpr size_t kInline = 23;  // held in the object itself up to this many

  KeyBytes() = default;
  KeyBytes(std::initializer_list<uint8_t> bytes) { assign(bytes.begin(), bytes.end()); }
  template <typename It>
  KeyBytes(It first, It last) {
    assign(first, last);
  }
  KeyBytes(const KeyBytes& o) { std::memcpy(extend(o.size_), o.data(), o.size_); }
  KeyBytes(KeyBytes&& o) noexcept { take(o); }
  KeyBytes& operator=(const KeyBytes& o) {
    if (this != &o) {
      clear();
      std::memcpy(extend(o.size_), o.data(), o.size_);
    }
    return *this;
  }
  KeyBytes& operator=(KeyBytes&& o) noexcept {
    if (this != &o) {
      clear();
      take(o);
    }
    return *this;
  }
  ~KeyBytes() { clear(); }

  const uint8_t* data() const { return onHeap() ? heap() : raw_; }
  uint8_t* data() { return onHeap() ? heap() : raw_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const uint8_t* begin() const { return data(); }
  const uint8_t* end() const { return data() + size_; }
  uint8_t* begin() { return data(); }
  uint8_t* end() { return data() + size_; }
  uint8_t operator[](size_t i) const { return data()[i]; }
  operator std::span<const uint8_t>() const { return {data(), size_}; }
  std::vector<uint8_t> vector() const { return {begin(), end()}; }

  void clear() {
    if (onHeap()) delete[] heap();
    size_ = 0;
  }
  void push_back(uint8_t b) { *extend(1) = b; }
  // Appends (`at` must be end(): keys are built front to back). The bytes
  // are taken first, so they may come from this very key (whose bytes move
  // when it outgrows its inline room).
  template <typename It>
  void insert(const uint8_t* at, It first, It last) {
    if (at != end()) throw std::logic_error("KeyBytes::insert: only at the end");
    uint8_t taken[kCapacity];
    size_t n = take(first, last, taken);
    std::memcpy(extend(n), taken, n);
  }
  template <typename It>
  void assign(It first, It last) {
    uint8_t taken[kCapacity];
    size_t n = take(first, last, taken);
    clear();
    std::memcpy(extend(n), taken, n);
  }
  void assign(size_t n, uint8_t value) {
    clear();
    std::fill_n(extend(n), n, value);
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
  // Longer than kInline: raw_ holds the address of a block of kCapacity bytes.
  bool onHeap() const { return size_ > kInline; }
  uint8_t* heap() const {
    uint8_t* p;
    std::memcpy(&p, raw_, sizeof p);
    return p;
  }
  // Makes room for `n` more bytes and returns where they go.
  uint8_t* extend(size_t n) {
    if (size_ + n > kCapacity) throw std::length_error("set element key longer than 40 bytes");
    size_t old = size_;
    if (old <= kInline && old + n > kInline) {
      auto* block = new uint8_t[kCapacity];
      std::memcpy(block, raw_, old);
      std::memcpy(raw_, &block, sizeof block);
    }
    size_ = static_cast<uint8_t>(old + n);
    return data() + old;
  }
  template <typename It>
  static size_t take(It first, It last, uint8_t (&into)[kCapacity]) {
    size_t n = 0;
    for (; first != last; ++first) {
      if (n == kCapacity) throw std::length_error("set element key longer than 40 bytes");
      into[n++] = static_cast<uint8_t>(*first);
    }
    return n;
  }
  void take(KeyBytes& o) {  // this is empty
    std::memcpy(raw_, o.raw_, sizeof raw_);
    size_ = std::exchange(o.size_, 0);
  }
  alignas(8) uint8_t raw_[kInline]{};
  uint8_t size_ = 0;
};
static_assert(sizeof(KeyBytes) == 24);

}  // namespace ringfence::policy
