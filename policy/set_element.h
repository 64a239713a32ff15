// A set element, and how a device's part of the plan holds its elements.
//
// A plan has millions of elements at scale (about 22 a device). Held as
// SetElement objects they take 72 bytes each, and a heap block of their own
// for every key longer than 23 bytes (IPv6 concatenations). A device's part
// keeps them instead as bytes in an ElementList, each element as long as its
// keys: three bytes of lengths and flags, the indexes of its texts, its
// keys (about 25 bytes an element in all, its offset included). Readers see
// an element through an ElementView, which points into those bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policy/key_bytes.h"
#include "policy/shared_text.h"

namespace ringfence::policy {

// One element: the concatenated key parts, each in network byte order.
// For an interval set `high` holds the inclusive upper end of every part; for
// an exact set it is empty.
// Its data and comment are shared texts: every element of a device names
// the device, every element of a rule the rule's line, every element of a
// shard its chain, so that one text serves them all instead of a string each.
struct SetElement {
  KeyBytes low;
  KeyBytes high;
  SharedText data;         // a map's value: a limit object's name, or "goto CHAIN"
  SharedText comment;      // the profile line behind it, "file.yaml:12"
  uint64_t timeoutMs = 0;  // > 0: the kernel removes the element by itself after this long
  bool operator==(const SetElement&) const = default;
};

// An element as readers see it, wherever it is held: valid while that is.
struct ElementView {
  std::span<const uint8_t> low;
  std::span<const uint8_t> high;
  const SharedText& data;
  const SharedText& comment;
  uint64_t timeoutMs = 0;

  ElementView(const SetElement& e)  // NOLINT(google-explicit-constructor): a view of it
      : low(e.low), high(e.high), data(e.data), comment(e.comment), timeoutMs(e.timeoutMs) {}
  ElementView(std::span<const uint8_t> l, std::span<const uint8_t> h, const SharedText& d,
              const SharedText& c, uint64_t t)
      : low(l), high(h), data(d), comment(c), timeoutMs(t) {}
  SetElement copy() const;
  bool sameKey(const ElementView& o) const;
  bool operator==(const ElementView& o) const;
};

// Elements in bytes. Equal element sequences are equal byte for byte: each
// distinct text is held once, numbered in the order it first comes.
class ElementList {
 public:
  ElementList() = default;
  ElementList(const ElementList& o) : bytes_(o.bytes_), offsets_(o.offsets_), texts_(o.texts_) {}
  ElementList(ElementList&&) noexcept = default;
  ElementList& operator=(const ElementList& o) {
    if (this != &o) *this = ElementList(o);
    return *this;
  }
  ElementList& operator=(ElementList&&) noexcept = default;

  size_t size() const { return offsets_.size(); }
  bool empty() const { return offsets_.empty(); }
  ElementView operator[](size_t i) const { return view(element(i), texts_.data()); }
  ElementView at(size_t i) const;  // std::out_of_range past the end
  // Where element `i`'s bytes begin.
  const uint8_t* element(size_t i) const { return bytes_.data() + offsets_[i]; }
  // Fetches ahead where the elements begin (for element()).
  void prefetch() const { __builtin_prefetch(offsets_.data()); }
  // The element whose bytes begin at `p`, its texts those at `texts`.
  static ElementView view(const uint8_t* p, const SharedText* texts);
  // Fetches ahead the texts that the element at `p` names.
  static void prefetchTexts(const uint8_t* p, const SharedText* texts);

  void push_back(const SetElement& e);
  void reserve(size_t elements) {
    offsets_.reserve(elements);
    bytes_.reserve(elements * 24);
  }
  // Done adding: the room made ahead and the texts' index are given back.
  void shrink_to_fit();
  // Element `i` becomes `e` (the list is made again: for tests and the rare edit).
  void replace(size_t i, const SetElement& e);

  class iterator {
   public:
    iterator(const ElementList* l, size_t i) : list_(l), i_(i) {}
    ElementView operator*() const { return (*list_)[i_]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const iterator& o) const { return i_ == o.i_; }

   private:
    const ElementList* list_;
    size_t i_;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, size()}; }

  bool operator==(const ElementList& o) const { return bytes_ == o.bytes_ && texts_ == o.texts_; }

  // The packed form (policy_fields.h): the bytes and the texts. A list made
  // from them is checked element by element: none if any is malformed.
  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  const std::vector<SharedText>& texts() const { return texts_; }
  static std::optional<ElementList> fromBytes(std::string_view bytes,
                                              std::vector<SharedText> texts);

 private:
  uint32_t textIndex(const SharedText& t);

  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> offsets_;  // where each element's bytes begin
  std::vector<SharedText> texts_;
  // While adding, when there are many texts: each one's index by its bytes.
  std::unique_ptr<std::unordered_map<std::string_view, uint32_t>> lookup_;
};

// Where one element of a plan lies: a set's own element, or the bytes of one
// in a list (and the list's texts), so that reading it takes no look at the
// list itself. The plan must outlive it.
class ElementRef {
 public:
  ElementRef(const SetElement* e) : p_(e) {}  // NOLINT(google-explicit-constructor)
  ElementRef(const ElementList* l, uint32_t i)
      : p_(l->element(i)), texts_(l->texts().empty() ? &kNoTexts : l->texts().data()) {}
  ElementView operator*() const {
    if (!texts_) return {*static_cast<const SetElement*>(p_)};
    return ElementList::view(static_cast<const uint8_t*>(p_), texts_);
  }
  // Reading many elements that lie far apart: each fetched ahead, first its
  // bytes (and where its list's texts are), then, a little later, its texts.
  void prefetch() const {
    __builtin_prefetch(p_);
    if (texts_) __builtin_prefetch(texts_);
  }
  void prefetchTexts() const {
    if (texts_) ElementList::prefetchTexts(static_cast<const uint8_t*>(p_), texts_);
  }
  bool operator==(const ElementRef&) const = default;  // the same place

 private:
  static inline const SharedText kNoTexts{};  // a list without texts: none is ever read
  const void* p_;
  const SharedText* texts_ = nullptr;  // none: p_ is a SetElement
};

}  // namespace ringfence::policy
