// What earlier compiles made of each device, so that a reload compiles only
// the devices that changed (docs/policy-loading.md, "Reloading what changed").
//
// A device's part of the plan is a function of the device alone (every field
// of it, after groups are resolved) and of the plan's set layout (which sets
// exist, in which order: the elements name their set by its index). An entry
// is reused only for a device equal to the one it was compiled from, field
// for field, in a compile whose set layout is the one it was compiled
// against; a compile with another layout drops every entry. Nothing is
// reused on a hash alone: a stale entry would be a stale rule in the kernel.
//
// Memory: the cache holds the very devices and parts that the policy and the
// plan last compiled hold (SharedList), so it costs its map alone; an
// unchanged device is found by its address.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/model.h"
#include "policy/plan.h"

namespace ringfence::policy {

class CompileCache {
 public:
  struct Entry {
    DeviceList::Ptr device;                // compiled from
    SharedList<DeviceElements>::Ptr part;  // what it compiled to
    // The last compile it was part of (forget_unused.h): written by find()
    // too, each of its own entry.
    mutable uint64_t usedIn = 0;
  };

  // Held for a whole compile: one compile at a time uses the cache.
  std::unique_lock<std::mutex> lock() { return std::unique_lock(mutex_); }

  // Starts a compile against `layout` (the plan's set names, in order).
  void begin(std::vector<std::string> layout);
  // The entry of exactly `d` (the same device, kept then; or one equal
  // field for field, to keep()), or nullptr. Safe from several threads at
  // once, each with its own device, as long as nothing is stored meanwhile.
  const Entry* find(const DeviceList::Ptr& d) const;
  // `d` is a device of the policy being compiled, compiled to `part`
  // (store), or equal to the one find() gave but another object (keep: it is
  // found by its address from now on).
  void store(const DeviceList::Ptr& d, SharedList<DeviceElements>::Ptr part);
  void keep(const DeviceList::Ptr& d);
  // Forgets the devices that were neither stored nor kept since begin().
  void end();
  // Forgets everything (a compile that failed half way).
  void clear();

  struct Counts {
    size_t compiled = 0, reused = 0;
  };
  const Counts& lastCompile() const { return last_; }
  void count(size_t compiled, size_t reused) {
    counts_.compiled += compiled;
    counts_.reused += reused;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> layout_;
  std::unordered_map<std::string, Entry> entries_;  // by device name
  uint64_t compile_ = 0;                            // the compile going on
  Counts counts_, last_;
};

}  // namespace ringfence::policy
