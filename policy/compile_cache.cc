#include "policy/compile_cache.h"

#include <cstring>
#include <stdexcept>

#include "policy/forget_unused.h"

namespace ringfence::policy {
namespace {

// An element packed: key lengths and bytes, then the map value, the comment
// and the timeout, each length-prefixed. Its set is its device's slice's.
void putU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void putBytes(std::string& out, const KeyBytes& k) {
  static_assert(KeyBytes::kCapacity <= 255, "a key's length is packed in one byte");
  out.push_back(static_cast<char>(k.size()));
  out.append(reinterpret_cast<const char*>(k.data()), k.size());
}
void putString(std::string& out, const std::string& s) {
  putU32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  uint32_t u32() {
    uint32_t v = 0;
    std::memcpy(&v, take(4), 4);
    return v;
  }
  void bytes(KeyBytes& k) {
    size_t n = static_cast<uint8_t>(*take(1));
    const char* p = take(n);
    k.assign(reinterpret_cast<const uint8_t*>(p), reinterpret_cast<const uint8_t*>(p) + n);
  }
  void string(std::string& s) {
    size_t n = u32();
    s.assign(take(n), n);
  }
  uint64_t u64() {
    uint64_t v = 0;
    std::memcpy(&v, take(8), 8);
    return v;
  }

 private:
  const char* take(size_t n) {
    if (at_ + n > in_.size()) throw std::logic_error("compile cache: a packed entry is short");
    const char* p = in_.data() + at_;
    at_ += n;
    return p;
  }
  const std::string& in_;
  size_t at_ = 0;

 public:
  bool done() const { return at_ == in_.size(); }
};

}  // namespace

DeviceElements CompileCache::Entry::appendTo(std::vector<SetDef>& sets) const {
  DeviceElements out = runtime;
  Reader r(packed);
  for (ElementSlice& slice : out.slices) {
    std::vector<SetElement>& elements = sets.at(slice.set).elements;
    uint32_t count = slice.end - slice.begin;
    slice.begin = static_cast<uint32_t>(elements.size());
    slice.end = slice.begin + count;
    for (uint32_t e = 0; e < count; ++e) {
      SetElement& el = elements.emplace_back();
      r.bytes(el.low);
      r.bytes(el.high);
      r.string(el.data);
      r.string(el.comment);
      el.timeoutMs = r.u64();
    }
  }
  if (!r.done()) throw std::logic_error("compile cache: a packed entry is too long");
  return out;
}

void CompileCache::begin(std::vector<std::string> layout) {
  if (layout != layout_) {
    entries_.clear();
    layout_ = std::move(layout);
  }
  counts_ = {};
}

const CompileCache::Entry* CompileCache::find(const Device& d) const {
  auto it = entries_.find(d.name);
  if (it == entries_.end() || !(*it->second.device == d)) return nullptr;
  return &it->second;
}

void CompileCache::store(const Device& d, const CompiledDevice& compiled) {
  Entry e{&d, compiled.runtime, {}, compiled.limit, true};
  for (const auto& [set, el] : compiled.elements) {
    putBytes(e.packed, el.low);
    putBytes(e.packed, el.high);
    putString(e.packed, el.data);
    putString(e.packed, el.comment);
    e.packed.append(reinterpret_cast<const char*>(&el.timeoutMs), 8);
  }
  e.packed.shrink_to_fit();
  entries_.insert_or_assign(d.name, std::move(e));
}

void CompileCache::keep(const Device& d) {
  if (auto it = entries_.find(d.name); it != entries_.end()) {
    it->second.device = &d;  // equal to the one compiled from, in the policy now compiled
    it->second.used = true;
  }
}

void CompileCache::clear() {
  entries_.clear();
  layout_.clear();
  source_.reset();
}

void CompileCache::end(std::shared_ptr<const Policy> compiled) {
  forgetUnused(entries_);
  source_ = std::move(compiled);
  last_ = counts_;
}

}  // namespace ringfence::policy
