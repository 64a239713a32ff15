// Isolations on disk: written atomically (write, fsync, rename, fsync the
// directory) on every change, read back before the policy is applied at
// start, so a restart or a reboot never releases a device. A line that
// cannot be read is reported and skipped; the others still count.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/violations.h"

namespace ringfence::daemon {

// Format: a header line "ringfence-isolations 3", then one line per
// isolation: isolated, device, since, release-at or -, by, reason,
// addresses (comma-separated) or -, MAC or -, separated by tabs; then one
// line per isolated device's counters: counters, device, violations,
// last violation or -, probes received. Files of version 2 (no counters)
// and lines of version 1 (the first six fields) are still read: their
// addresses come from the policy when it is applied, their counters start
// at 0.
struct DeviceCounters {
  uint64_t violations = 0;
  std::optional<policy::WallTime> lastViolation;
  uint64_t probes = 0;
  bool operator==(const DeviceCounters&) const = default;
};
using CounterMap = std::map<std::string, DeviceCounters>;  // by device name

struct LoadedState {
  std::vector<policy::Isolation> isolations;
  CounterMap counters;
  // At most kMaxProblems reasons to say so loudly, one by one; the rest are
  // only counted in `moreProblems` (a file of stale lines must not flood the log).
  static constexpr size_t kMaxProblems = 10;
  std::vector<std::string> problems;
  size_t moreProblems = 0;
};

class StateStore {
 public:
  explicit StateStore(std::string dir) : dir_(std::move(dir)) {}

  std::string path() const { return dir_ + "/isolations"; }
  // A missing file is an empty state; an unreadable one is a problem (and an empty list).
  LoadedState load() const;
  // The text of a file (what load reads), and the reading of such a text.
  static std::string serialize(const std::vector<policy::Isolation>& isolations,
                               const CounterMap& counters = {});
  static LoadedState parse(const std::string& text, const std::string& path);
  std::expected<void, std::string> save(const std::vector<policy::Isolation>& isolations,
                                        const CounterMap& counters = {}) const;

  // Flows learned for learn/monitor devices (policy::LearnedFlows text).
  std::string learnedPath() const { return dir_ + "/learned"; }
  std::expected<std::string, std::string> loadLearned() const;  // empty if absent
  std::expected<void, std::string> saveLearned(const std::string& text) const;

 private:
  std::expected<void, std::string> writeAtomically(const std::string& path,
                                                   const std::string& text) const;
  std::string dir_;
};

}  // namespace ringfence::daemon
