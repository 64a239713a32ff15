// Isolations on disk: written atomically (write, fsync, rename, fsync the
// directory) on every change, read back before the policy is applied at
// start, so a restart or a reboot never releases a device. A line that
// cannot be read is reported and skipped; the others still count.
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "policy/violations.h"

namespace ringfence::daemon {

struct LoadedState {
  std::vector<policy::Isolation> isolations;
  std::vector<std::string> problems;  // each one a reason to say so loudly
};

class StateStore {
 public:
  explicit StateStore(std::string dir) : dir_(std::move(dir)) {}

  std::string path() const { return dir_ + "/isolations"; }
  // A missing file is an empty state; an unreadable one is a problem (and an empty list).
  LoadedState load() const;
  std::expected<void, std::string> save(const std::vector<policy::Isolation>& isolations) const;

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
