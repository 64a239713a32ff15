#include "policy/set_element.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_set>

namespace ringfence::policy {
namespace {

// An element's bytes: its low and high key lengths, its flags, then the
// index of its data text and of its comment (each if flagged, LEB128), its
// timeout (if flagged, 8 bytes), then its low and high keys.
enum : uint8_t { kHasData = 1, kHasComment = 2, kHasTimeout = 4, kAllFlags = 7 };

const SharedText& noText() {
  static const SharedText none;
  return none;
}

void putIndex(std::vector<uint8_t>& out, uint32_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

// Reads an index at `at` (< end), or none if it runs past `end` or beyond 32 bits.
std::optional<uint32_t> getIndex(const uint8_t*& at, const uint8_t* end) {
  uint32_t v = 0;
  for (unsigned shift = 0; shift < 35 && at < end; shift += 7) {
    uint8_t b = *at++;
    if (shift == 28 && b > 0x0f) return std::nullopt;
    if (shift > 0 && b == 0) return std::nullopt;  // padded: not the one form of v
    v |= static_cast<uint32_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  return std::nullopt;
}

// An index of well-formed bytes.
uint32_t index(const uint8_t*& p) {
  uint32_t v = 0;
  for (unsigned shift = 0;; shift += 7) {
    uint8_t b = *p++;
    v |= static_cast<uint32_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

}  // namespace

void ElementList::prefetchTexts(const uint8_t* p, const SharedText* texts) {
  uint8_t flags = p[2];
  p += 3;
  if (flags & kHasData) texts[index(p)].prefetch();
  if (flags & kHasComment) texts[index(p)].prefetch();
}

SetElement ElementView::copy() const {
  SetElement e;
  e.low.assign(low.begin(), low.end());
  e.high.assign(high.begin(), high.end());
  e.data = data;
  e.comment = comment;
  e.timeoutMs = timeoutMs;
  return e;
}

bool ElementView::sameKey(const ElementView& o) const {
  return std::ranges::equal(low, o.low) && std::ranges::equal(high, o.high);
}

bool ElementView::operator==(const ElementView& o) const {
  return sameKey(o) && data == o.data && comment == o.comment && timeoutMs == o.timeoutMs;
}

ElementView ElementList::view(const uint8_t* p, const SharedText* texts) {
  uint8_t lowLen = p[0], highLen = p[1], flags = p[2];
  p += 3;
  auto text = [&](uint8_t flag) -> const SharedText& {
    if (!(flags & flag)) return noText();
    return texts[index(p)];  // checked when the bytes were made
  };
  const SharedText& data = text(kHasData);
  const SharedText& comment = text(kHasComment);
  uint64_t timeout = 0;
  if (flags & kHasTimeout) {
    std::memcpy(&timeout, p, 8);
    p += 8;
  }
  return {{p, lowLen}, {p + lowLen, highLen}, data, comment, timeout};
}

ElementView ElementList::at(size_t i) const {
  if (i >= size()) throw std::out_of_range("ElementList::at");
  return (*this)[i];
}

void ElementList::replace(size_t i, const SetElement& e) {
  if (i >= size()) throw std::out_of_range("ElementList::replace");
  ElementList made;
  made.reserve(size());
  for (size_t k = 0; k < size(); ++k) made.push_back(k == i ? e : (*this)[k].copy());
  made.shrink_to_fit();
  *this = std::move(made);
}

uint32_t ElementList::textIndex(const SharedText& t) {
  constexpr size_t kScan = 8;  // beyond this many texts, an index by their bytes
  if (!lookup_ && texts_.size() < kScan) {
    for (size_t i = texts_.size(); i-- > 0;) {
      if (texts_[i] == t) return static_cast<uint32_t>(i);
    }
  } else {
    if (!lookup_) {
      lookup_ = std::make_unique<std::unordered_map<std::string_view, uint32_t>>();
      for (size_t i = 0; i < texts_.size(); ++i)
        lookup_->emplace(texts_[i].str(), static_cast<uint32_t>(i));
    }
    auto it = lookup_->find(t.str());
    if (it != lookup_->end()) return it->second;
  }
  if (texts_.size() >= UINT32_MAX) throw std::length_error("too many texts in one element list");
  texts_.push_back(t);
  // The view is of the text's own bytes, which do not move with the vector.
  if (lookup_) lookup_->emplace(texts_.back().str(), static_cast<uint32_t>(texts_.size() - 1));
  return static_cast<uint32_t>(texts_.size() - 1);
}

void ElementList::push_back(const SetElement& e) {
  if (bytes_.size() > UINT32_MAX - 128) throw std::length_error("an element list too long");
  offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
  uint8_t flags = (e.data.empty() ? 0 : kHasData) | (e.comment.empty() ? 0 : kHasComment) |
                  (e.timeoutMs ? kHasTimeout : 0);
  bytes_.push_back(static_cast<uint8_t>(e.low.size()));
  bytes_.push_back(static_cast<uint8_t>(e.high.size()));
  bytes_.push_back(flags);
  if (flags & kHasData) putIndex(bytes_, textIndex(e.data));
  if (flags & kHasComment) putIndex(bytes_, textIndex(e.comment));
  if (flags & kHasTimeout) {
    uint8_t t[8];
    std::memcpy(t, &e.timeoutMs, 8);
    bytes_.insert(bytes_.end(), t, t + 8);
  }
  bytes_.insert(bytes_.end(), e.low.begin(), e.low.end());
  bytes_.insert(bytes_.end(), e.high.begin(), e.high.end());
}

void ElementList::shrink_to_fit() {
  bytes_.shrink_to_fit();
  offsets_.shrink_to_fit();
  texts_.shrink_to_fit();
  lookup_.reset();
}

std::optional<ElementList> ElementList::fromBytes(std::string_view bytes,
                                                  std::vector<SharedText> texts) {
  ElementList out;
  out.bytes_.assign(bytes.begin(), bytes.end());
  out.texts_ = std::move(texts);
  size_t seen = 0;  // texts named so far: the next new one must be this one
  const uint8_t* begin = out.bytes_.data();
  const uint8_t* end = begin + out.bytes_.size();
  const uint8_t* p = begin;
  while (p < end) {
    if (end - p < 3 || static_cast<size_t>(p - begin) > UINT32_MAX) return std::nullopt;
    out.offsets_.push_back(static_cast<uint32_t>(p - begin));
    uint8_t lowLen = p[0], highLen = p[1], flags = p[2];
    p += 3;
    if (lowLen == 0 || lowLen > KeyBytes::kCapacity || highLen > KeyBytes::kCapacity ||
        (flags & ~kAllFlags)) {
      return std::nullopt;
    }
    for (uint8_t flag : {kHasData, kHasComment}) {
      if (!(flags & flag)) continue;
      std::optional<uint32_t> i = getIndex(p, end);
      // Each text in the order it first comes, none empty: the one form of these elements.
      if (!i || *i > seen || *i >= out.texts_.size() || out.texts_[*i].empty()) return std::nullopt;
      if (*i == seen) ++seen;
    }
    size_t rest = (flags & kHasTimeout ? 8 : 0) + lowLen + highLen;
    if (static_cast<size_t>(end - p) < rest) return std::nullopt;
    if (flags & kHasTimeout) {
      uint64_t t;
      std::memcpy(&t, p, 8);
      if (t == 0) return std::nullopt;
    }
    p += rest;
  }
  if (seen != out.texts_.size()) return std::nullopt;
  std::unordered_set<std::string_view> distinct;  // each text once, as push_back holds them
  for (const SharedText& t : out.texts_) {
    if (!distinct.insert(t.str()).second) return std::nullopt;
  }
  return out;
}

}  // namespace ringfence::policy
