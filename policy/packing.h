// Packing values into bytes and back, for what the daemon keeps of a policy:
// the compile cache (in memory) and the compiled policy (on disk,
// policy_packing.h). One description of a struct's fields serves both ways,
// so what is packed is what is unpacked.
//
// A struct takes part by a `fields(a, x)` overload found by argument-dependent
// lookup, which calls `a(x.first_field, x.second_field, ...)`. Integers and
// enums are packed in host byte order (the bytes never leave the machine);
// every length is checked against what is left, so a truncated or altered
// input throws PackingError instead of reading past its end.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "policy/boxed.h"
#include "policy/inline_vector.h"
#include "policy/key_bytes.h"
#include "policy/shared_text.h"

namespace ringfence::policy {

struct PackingError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace packing_detail {
template <typename T>
struct IsVector : std::false_type {};
template <typename T, typename A>
struct IsVector<std::vector<T, A>> : std::true_type {};
template <typename T, uint32_t N>
struct IsVector<InlineVector<T, N>> : std::true_type {};
template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsOptional<Boxed<T>> : std::true_type {};
template <typename T>
struct IsPair : std::false_type {};
template <typename A, typename B>
struct IsPair<std::pair<A, B>> : std::true_type {};
template <typename T>
struct IsMap : std::false_type {};
template <typename K, typename V, typename C, typename A>
struct IsMap<std::map<K, V, C, A>> : std::true_type {};
template <typename T>
struct IsVariant : std::false_type {};
template <typename... T>
struct IsVariant<std::variant<T...>> : std::true_type {};
template <typename T>
struct IsDuration : std::false_type {};
template <typename R, typename P>
struct IsDuration<std::chrono::duration<R, P>> : std::true_type {};
template <typename T>
struct IsSharedConst : std::false_type {};
template <typename T>
struct IsSharedConst<std::shared_ptr<const T>> : std::true_type {};
template <typename T>
struct IsArray : std::false_type {};
template <typename T, size_t N>
struct IsArray<std::array<T, N>> : std::true_type {};
}  // namespace packing_detail

// Where a Packer's bytes go when they are too many to hold at once (a file
// being written): write() takes the bytes packed so far, patch() changes
// bytes already written (a size known only once what it counts is packed).
// Both throw on failure.
class PackSink {
 public:
  virtual ~PackSink() = default;
  virtual void write(std::string_view bytes) = 0;
  virtual void patch(uint64_t at, std::string_view bytes) = 0;
};

class Packer {
 public:
  explicit Packer(std::string& out) : out_(out) {}
  // Hands `out` to `sink` whenever it holds `spillAt` bytes or more between
  // two elements of a list, and empties it: what it holds at the end is
  // the tail, not yet written.
  Packer(std::string& out, PackSink& sink, size_t spillAt)
      : out_(out), sink_(&sink), spillAt_(spillAt) {}

  // Bytes packed so far, those handed to the sink included.
  uint64_t position() const { return spilled_ + out_.size(); }

  template <typename... T>
  void operator()(const T&... values) {
    (item(values), ...);
  }

  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { raw(&v, 4); }
  // What fill() packs, as a string of those bytes would be packed (its size,
  // then the bytes), written in place: no copy of them.
  template <typename F>
  void sized(F fill) {
    uint64_t at = position();
    u32(0);
    fill();
    uint64_t n = position() - at - 4;
    if (n > UINT32_MAX) throw PackingError("a string too long to pack");
    auto size = static_cast<uint32_t>(n);
    patch(at, std::string_view(reinterpret_cast<const char*>(&size), 4));
  }
  void u64(uint64_t v) { raw(&v, 8); }
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }

  template <typename T>
  void item(const T& v) {
    using namespace packing_detail;
    if constexpr (std::is_same_v<T, bool>) {
      u8(v ? 1 : 0);
    } else if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
      raw(&v, sizeof v);
    } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
      if (v.size() > UINT32_MAX) throw PackingError("a string too long to pack");
      u32(static_cast<uint32_t>(v.size()));
      out_ += v;
    } else if constexpr (std::is_same_v<T, SharedText>) {
      item(v.str());
    } else if constexpr (std::is_same_v<T, KeyBytes>) {
      static_assert(KeyBytes::kCapacity <= 255, "a key's length is packed in one byte");
      u8(static_cast<uint8_t>(v.size()));
      raw(v.data(), v.size());
    } else if constexpr (IsArray<T>::value) {
      for (const auto& e : v) item(e);
    } else if constexpr (IsVector<T>::value || IsMap<T>::value) {
      u32(static_cast<uint32_t>(v.size()));
      for (const auto& e : v) {
        item(e);
        if (sink_ && out_.size() >= spillAt_) spill();
      }
    } else if constexpr (IsOptional<T>::value) {
      u8(v ? 1 : 0);
      if (v) item(*v);
    } else if constexpr (IsSharedConst<T>::value) {
      if (!v) throw PackingError("a shared value is missing");
      item(*v);
    } else if constexpr (IsPair<T>::value) {
      item(v.first);
      item(v.second);
    } else if constexpr (IsVariant<T>::value) {
      u32(static_cast<uint32_t>(v.index()));
      std::visit([this](const auto& alt) { this->item(alt); }, v);
    } else if constexpr (IsDuration<T>::value) {
      item(v.count());
    } else {
      fields(*this, const_cast<T&>(v));  // a struct: packing reads it only
    }
  }

 private:
  void spill() {
    sink_->write(out_);
    spilled_ += out_.size();
    out_.clear();
  }
  // Bytes at `at` (a position) become `bytes`: in the sink if it has them
  // (a spill hands over whole values, so never a part of them), else here.
  void patch(uint64_t at, std::string_view bytes) {
    if (at < spilled_) {
      if (at + bytes.size() > spilled_) throw std::logic_error("Packer: a value split by a spill");
      sink_->patch(at, bytes);
    } else {
      std::memcpy(out_.data() + (at - spilled_), bytes.data(), bytes.size());
    }
  }

  std::string& out_;
  PackSink* sink_ = nullptr;
  size_t spillAt_ = 0;
  uint64_t spilled_ = 0;  // bytes handed to the sink
};

class Unpacker {
 public:
  explicit Unpacker(std::string_view in) : in_(in) {}

  template <typename... T>
  void operator()(T&... values) {
    (item(values), ...);
  }

  bool done() const { return at_ == in_.size(); }
  size_t left() const { return in_.size() - at_; }
  // Calls `behind(at)` about every `every` bytes, between two items of a
  // list, `at` the end of what is unpacked so far: the caller may give back
  // the memory of the bytes before it, which are read only once (nothing
  // unpacked refers to them; a std::string_view field must not be unpacked
  // so).
  void onProgress(std::function<void(const char* at)> behind, size_t every) {
    behind_ = std::move(behind);
    every_ = every;
    nextAt_ = at_ + every;
  }
  uint8_t u8() { return static_cast<uint8_t>(*take(1)); }
  uint32_t u32() {
    uint32_t v = 0;
    std::memcpy(&v, take(4), 4);
    return v;
  }
  uint64_t u64() {
    uint64_t v = 0;
    std::memcpy(&v, take(8), 8);
    return v;
  }
  std::string_view bytes(size_t n) { return {take(n), n}; }

  template <typename T>
  void item(T& v) {
    using namespace packing_detail;
    if constexpr (std::is_same_v<T, bool>) {
      uint8_t b = u8();
      if (b > 1) throw PackingError("a flag is neither 0 nor 1");
      v = b == 1;
    } else if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
      std::memcpy(&v, take(sizeof v), sizeof v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      size_t n = u32();
      v.assign(take(n), n);
    } else if constexpr (std::is_same_v<T, SharedText>) {
      // One text for the same bytes unpacked again soon after (the comment
      // of a device's or a rule's every element): shared, as packed.
      size_t n = u32();
      std::string_view bytes(take(n), n);
      if (n == 0) {
        v = SharedText();
        return;
      }
      for (const SharedText& t : recent_) {
        if (t.size() == n && std::string_view(t) == bytes) {
          v = t;
          return;
        }
      }
      v = SharedText(std::string(bytes));
      recent_[nextRecent_++ % recent_.size()] = v;
    } else if constexpr (std::is_same_v<T, std::string_view>) {
      size_t n = u32();  // a view into the input: it lives as long as the input
      v = std::string_view(take(n), n);
    } else if constexpr (std::is_same_v<T, KeyBytes>) {
      size_t n = u8();
      if (n > KeyBytes::kCapacity) throw PackingError("a key is longer than any key");
      const auto* p = reinterpret_cast<const uint8_t*>(take(n));
      v.assign(p, p + n);
    } else if constexpr (IsArray<T>::value) {
      for (auto& e : v) item(e);
    } else if constexpr (IsVector<T>::value) {
      size_t n = count();
      v.clear();
      v.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        item(v.emplace_back());
        if (behind_ && at_ >= nextAt_) {
          behind_(in_.data() + at_);
          nextAt_ = at_ + every_;
        }
      }
    } else if constexpr (IsMap<T>::value) {
      size_t n = count();
      v.clear();
      for (size_t i = 0; i < n; ++i) {
        std::pair<typename T::key_type, typename T::mapped_type> e;
        item(e);
        if (!v.emplace(std::move(e)).second) throw PackingError("a key comes twice");
      }
    } else if constexpr (IsOptional<T>::value) {
      bool present = false;
      item(present);
      if (present) {
        item(v.emplace());
      } else {
        v.reset();
      }
    } else if constexpr (IsSharedConst<T>::value) {
      // Made non-const, as DeviceList::make does: a list may edit what it alone holds.
      auto made = std::make_shared<std::remove_const_t<typename T::element_type>>();
      item(*made);
      v = std::move(made);
    } else if constexpr (IsPair<T>::value) {
      item(v.first);
      item(v.second);
    } else if constexpr (IsVariant<T>::value) {
      alternative(v, u32(), std::make_index_sequence<std::variant_size_v<T>>{});
    } else if constexpr (IsDuration<T>::value) {
      typename T::rep r{};
      item(r);
      v = T(r);
    } else {
      fields(*this, v);
    }
  }

 private:
  std::function<void(const char*)> behind_;
  size_t every_ = 0, nextAt_ = 0;
  std::array<SharedText, 32> recent_;  // the texts unpacked last (a device has fewer)
  size_t nextRecent_ = 0;
  // A count of items: every packed item takes at least one byte (no empty struct is
  // packed in a vector), so more than are left is an error.
  size_t count() {
    size_t n = u32();
    if (n > left()) throw PackingError("a count runs past the end");
    return n;
  }
  template <typename V, size_t... I>
  void alternative(V& v, uint32_t index, std::index_sequence<I...>) {
    if (index >= sizeof...(I)) throw PackingError("an unknown alternative");
    (void)((index == I ? (item(v.template emplace<I>()), true) : false) || ...);
  }
  const char* take(size_t n) {
    if (n > in_.size() - at_) throw PackingError("the data ends too soon");
    const char* p = in_.data() + at_;
    at_ += n;
    return p;
  }
  std::string_view in_;
  size_t at_ = 0;
};

}  // namespace ringfence::policy
