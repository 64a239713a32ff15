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
// Memory: the devices compared with are shared with the policies that hold
// them (DeviceList), so an unchanged device is found by its address; the
// elements are kept packed, about a third of their size in a plan.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "policy/model.h"
#include "policy/plan.h"

namespace ringfence::policy {

// One device's part of the plan, on its own: its elements grouped by set
// (in set order), with `runtime.slices` pointing into `elements`.
struct CompiledDevice {
  DeviceElements runtime;
  std::vector<std::pair<uint32_t, SetElement>> elements;  // set index, element
  std::optional<LimitObject> limit;
};

class CompileCache {
 public:
  // What the cache keeps of a device: a CompiledDevice with its elements packed.
  struct Entry {
    DeviceList::Ptr device;  // compiled from
    DeviceElements runtime;
    std::string packed;
    std::optional<LimitObject> limit;
    bool used = false;
    // Appends its elements to their sets in `sets` (by set index) and
    // returns its run-time part, with the slices pointing into `sets`.
    DeviceElements appendTo(std::vector<SetDef>& sets) const;
  };

  // Held for a whole compile: one compile at a time uses the cache.
  std::unique_lock<std::mutex> lock() { return std::unique_lock(mutex_); }

  // Starts a compile against `layout` (the plan's set names, in order).
  void begin(std::vector<std::string> layout);
  // The entry of exactly `d` (the same device, or one equal field for
  // field), or nullptr. Safe from several threads at once, as long as
  // nothing is stored meanwhile.
  const Entry* find(const DeviceList::Ptr& d) const;
  // `d` is a device of the policy being compiled, compiled to `compiled`
  // (store), or equal to the one find() gave (keep).
  void store(const DeviceList::Ptr& d, const CompiledDevice& compiled);
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
  Counts counts_, last_;
};

}  // namespace ringfence::policy
