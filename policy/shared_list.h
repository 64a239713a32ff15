// A list of values that are immutable once in it and shared, not copied,
// between the lists and caches that hold them: a reload keeps what did not
// change as the very object it was (docs/policy-loading.md, "Reloading what
// changed"), so copying a list copies pointers and comparing two lists is
// mostly comparing addresses. Reading gives const T&; edit() gives a value to
// write, copying it first when another holder shares it.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ringfence::policy {

template <typename T>
class SharedList {
 public:
  using Ptr = std::shared_ptr<const T>;
  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;
    const_iterator() = default;
    explicit const_iterator(typename std::vector<Ptr>::const_iterator it) : it_(it) {}
    reference operator*() const { return **it_; }
    pointer operator->() const { return it_->get(); }
    reference operator[](difference_type n) const { return *it_[n]; }
    const_iterator& operator++() { return ++it_, *this; }
    const_iterator operator++(int) { return const_iterator(it_++); }
    const_iterator& operator--() { return --it_, *this; }
    const_iterator operator--(int) { return const_iterator(it_--); }
    const_iterator& operator+=(difference_type n) { return it_ += n, *this; }
    const_iterator& operator-=(difference_type n) { return it_ -= n, *this; }
    friend const_iterator operator+(const_iterator a, difference_type n) { return a += n; }
    friend const_iterator operator+(difference_type n, const_iterator a) { return a += n; }
    friend const_iterator operator-(const_iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return a.it_ - b.it_;
    }
    bool operator==(const const_iterator&) const = default;
    auto operator<=>(const const_iterator&) const = default;
    typename std::vector<Ptr>::const_iterator base() const { return it_; }

   private:
    typename std::vector<Ptr>::const_iterator it_;
  };

  SharedList() = default;
  SharedList(std::initializer_list<T> values) {
    for (const T& v : values) push_back(v);
  }
  // A value made to be shared by lists (and written by edit() while one list
  // alone holds it): every pointer in a list comes from here.
  static Ptr make(T v) { return std::make_shared<T>(std::move(v)); }

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const T& operator[](size_t i) const { return *items_[i]; }
  const T& at(size_t i) const { return *items_.at(i); }
  const T& front() const { return *items_.front(); }
  const T& back() const { return *items_.back(); }
  const_iterator begin() const { return const_iterator(items_.begin()); }
  const_iterator end() const { return const_iterator(items_.end()); }
  const Ptr& shared(size_t i) const { return items_[i]; }
  const std::vector<Ptr>& shared() const { return items_; }

  void push_back(T v) { items_.push_back(make(std::move(v))); }
  void push_back(Ptr v) {
    if (!v) throw std::invalid_argument("SharedList: no value");
    items_.push_back(std::move(v));
  }
  void reserve(size_t n) { items_.reserve(n); }
  void clear() { items_.clear(); }
  void erase(const_iterator it) { items_.erase(it.base()); }
  void set(size_t i, Ptr v) { items_.at(i) = std::move(v); }
  // The value at `i`, to write: a copy of its own when another holder shares it.
  T& edit(size_t i) {
    Ptr& p = items_.at(i);
    if (p.use_count() != 1) p = make(*p);
    // Made non-const by make(): writing it is allowed while this list alone holds it.
    return const_cast<T&>(*p);
  }
  // The value at `i`, to write in place although others hold it too: only
  // for a value made by the caller's own work, whose other holders read it
  // only once that work is done (a profile parsed in this very load).
  T& editOwn(size_t i) { return const_cast<T&>(*items_.at(i)); }
  // The pointers, to sort or to fill; every one must come from make().
  std::vector<Ptr>& items() { return items_; }

  // Value by value: the same object, or equal.
  bool operator==(const SharedList& o) const {
    if (items_.size() != o.items_.size()) return false;
    for (size_t i = 0; i < items_.size(); ++i) {
      if (items_[i] != o.items_[i] && !(*items_[i] == *o.items_[i])) return false;
    }
    return true;
  }

 private:
  std::vector<Ptr> items_;
};

}  // namespace ringfence::policy
