// A vector that holds up to N elements in place and more in one heap block:
// a rule's ports, peers and resolved peers are nearly always one or two, and
// a policy of 100,000 devices has half a million rules, so three heap blocks
// a rule (each at least 32 bytes with its header) are most of what its
// rules weigh. The part of std::vector's interface the policy uses.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace ringfence::policy {

template <typename T, uint32_t N>
class InlineVector {
  static_assert(N > 0);
  static_assert(std::is_nothrow_move_constructible_v<T>, "elements move without throwing");

 public:
  using value_type = T;
  using size_type = size_t;
  using iterator = T*;
  using const_iterator = const T*;
  using reference = T&;
  using const_reference = const T&;

  InlineVector() noexcept {}
  InlineVector(std::initializer_list<T> items) : InlineVector(items.begin(), items.end()) {}
  // Made empty first: should a copy throw, what was made is destroyed.
  template <std::input_iterator It>
  InlineVector(It first, It last) : InlineVector() {
    if constexpr (std::forward_iterator<It>)
      reserve(static_cast<size_t>(std::distance(first, last)));
    for (; first != last; ++first) emplace_back(*first);
  }
  explicit InlineVector(const std::vector<T>& v) : InlineVector(v.begin(), v.end()) {}
  InlineVector(const InlineVector& o) : InlineVector(o.begin(), o.end()) {}
  InlineVector(InlineVector&& o) noexcept { take(std::move(o)); }
  InlineVector& operator=(const InlineVector& o) {
    if (this != &o) {
      clear();
      reserve(o.size_);
      for (const T& v : o) emplace_back(v);
    }
    return *this;
  }
  InlineVector& operator=(InlineVector&& o) noexcept {
    if (this != &o) {
      release();
      take(std::move(o));
    }
    return *this;
  }
  InlineVector& operator=(std::initializer_list<T> items) {
    clear();
    reserve(items.size());
    for (const T& v : items) emplace_back(v);
    return *this;
  }
  ~InlineVector() { release(); }

  // In place, elements are reached through the storage they were made in
  // (laundered only when there is one).
  T* data() noexcept {
    if (onHeap()) return heap_;
    T* p = reinterpret_cast<T*>(inline_);
    return size_ ? std::launder(p) : p;
  }
  const T* data() const noexcept {
    if (onHeap()) return heap_;
    const T* p = reinterpret_cast<const T*>(inline_);
    return size_ ? std::launder(p) : p;
  }
  size_t size() const noexcept { return size_; }
  size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  iterator begin() noexcept { return data(); }
  iterator end() noexcept { return data() + size_; }
  const_iterator begin() const noexcept { return data(); }
  const_iterator end() const noexcept { return data() + size_; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T& front() { return data()[0]; }
  const T& front() const { return data()[0]; }
  T& back() { return data()[size_ - 1]; }
  const T& back() const { return data()[size_ - 1]; }

  void reserve(size_t n) {
    if (n > capacity_) moveTo(n, nullptr);
  }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == capacity_) {
      // Made in the new block before the old elements move: `args` may be one of them.
      T* made = nullptr;
      size_t grown = std::min<size_t>(UINT32_MAX, 2 * size_t{capacity_});
      moveTo(std::max<size_t>(grown, size_ + 1),
             [&](T* at) { made = ::new (static_cast<void*>(at)) T(std::forward<Args>(args)...); });
      ++size_;
      return *made;
    }
    T* made = ::new (static_cast<void*>(data() + size_)) T(std::forward<Args>(args)...);
    ++size_;
    return *made;
  }
  void push_back(const T& v) { emplace_back(v); }
  void push_back(T&& v) { emplace_back(std::move(v)); }
  void pop_back() {
    --size_;
    std::destroy_at(data() + size_);
  }
  void clear() noexcept {
    std::destroy_n(data(), size_);
    size_ = 0;
  }

  friend bool operator==(const InlineVector& a, const InlineVector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const InlineVector& a, const std::vector<T>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  bool onHeap() const noexcept { return capacity_ > N; }

  // Into a heap block of `n` elements; `emplace` (if any) first makes the
  // element that goes after the current ones.
  template <typename Emplace>
  void moveTo(size_t n, Emplace emplace) {
    if (n > UINT32_MAX) throw std::length_error("InlineVector too long");
    std::allocator<T> alloc;
    T* block = alloc.allocate(n);
    try {
      if constexpr (!std::is_same_v<Emplace, std::nullptr_t>) emplace(block + size_);
    } catch (...) {
      alloc.deallocate(block, n);
      throw;
    }
    T* from = data();
    std::uninitialized_move_n(from, size_, block);  // elements move without throwing
    std::destroy_n(from, size_);
    if (onHeap()) alloc.deallocate(heap_, capacity_);
    heap_ = block;
    capacity_ = static_cast<uint32_t>(n);
  }
  void release() noexcept {
    clear();
    if (onHeap()) std::allocator<T>().deallocate(heap_, capacity_);
    capacity_ = N;
  }
  // `o`'s elements, `o` left empty in place (this one holds none and no block).
  void take(InlineVector&& o) noexcept {
    if (o.onHeap()) {
      heap_ = o.heap_;
      capacity_ = o.capacity_;
      size_ = o.size_;
      o.capacity_ = N;
      o.size_ = 0;
      return;
    }
    std::uninitialized_move_n(o.data(), o.size_, data());
    size_ = o.size_;
    o.clear();
  }

  uint32_t size_ = 0;
  uint32_t capacity_ = N;
  union {
    T* heap_;
    alignas(T) std::byte inline_[N * sizeof(T)];
  };
};

}  // namespace ringfence::policy
