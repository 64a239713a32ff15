// What the last compile made of each device, so that a reload compiles only
// the devices that changed (docs/policy-loading.md, "Reloading what changed").
//
// A device's part of the plan is a function of the device alone (every field
// of it, after groups are resolved) and of the plan's set layout (which sets
// exist, in which order: the elements name their set by its index). A part
// is taken again only for a device that is the very device it was compiled
// from, or equal to it field for field, in a compile whose set layout is the
// one it was compiled against; a compile with another layout compiles every
// device. Nothing is reused on a hash alone: a stale part would be a stale
// rule in the kernel.
//
// The cache holds the last compile's devices and parts, in name order: the
// very objects that the policy and the plan then in force hold (SharedList),
// so it costs two lists of pointers, and a compile finds each unchanged
// device by walking both lists together, comparing addresses.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "policy/model.h"
#include "policy/plan.h"

namespace ringfence::policy {

class CompileCache {
 public:
  using Part = SharedList<DeviceElements>::Ptr;

  // Held for a whole compile: one compile at a time uses the cache.
  std::unique_lock<std::mutex> lock() { return std::unique_lock(mutex_); }

  // For each of `devices` (sorted by name), compiled against `layout` (the
  // plan's set names, in order): its part from the last compile if that was
  // of this very device or an equal one, else nullptr (to compile).
  std::vector<Part> find(const DeviceList& devices, const std::vector<std::string>& layout) const;
  // The compile of `devices` gave `parts` (parallel to them) against `layout`.
  void store(const DeviceList& devices, std::vector<Part> parts, std::vector<std::string> layout);
  // Forgets everything (a compile that failed half way).
  void clear();
  // The next compile checks instead of reusing: it compiles every device,
  // and a part equal field for field to the one find() gives is replaced by
  // that one, so that its plan holds one copy of what is the same (a start
  // check: a compile from scratch compared with the plan started from, whose
  // devices and parts store() put here). store() ends it.
  void checkNext() { checking_ = true; }
  bool checking() const { return checking_; }

  struct Counts {
    size_t compiled = 0, reused = 0;
  };
  const Counts& lastCompile() const { return last_; }
  void count(size_t compiled, size_t reused) { last_ = {compiled, reused}; }

 private:
  std::mutex mutex_;
  std::vector<std::string> layout_;
  DeviceList devices_;       // the last compile's, sorted by name
  std::vector<Part> parts_;  // parallel to devices_
  Counts last_;
  bool checking_ = false;
};

}  // namespace ringfence::policy
