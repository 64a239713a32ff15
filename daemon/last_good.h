// The last good policy: the sources of every policy the daemon applied,
// saved in STATE_DIR/last-good-policy once applied (write, fsync, rename,
// fsync the directory; at start, the write is made while the kernel
// applies it), so that a start with a refused policy on disk can enforce
// exactly what was enforced before (docs/failsafe.md).
#pragma once

#include <cstdint>
#include <expected>
#include <string>

#include "daemon/atomic_file.h"
#include "policy/sources.h"

namespace ringfence::daemon {

struct LastGoodPolicy {
  policy::PolicySources sources;
  uint64_t generation = 0;  // the generation it had when it was applied
  uint64_t hash = 0;        // policy::sourcesHash(sources)
  uint64_t savedAt = 0;     // CLOCK_REALTIME microseconds
};

class LastGoodStore {
 public:
  explicit LastGoodStore(std::string dir) : dir_(std::move(dir)) {}

  std::string path() const { return dir_ + "/last-good-policy"; }
  // Errors name the file and what failed; on error the previous file is intact.
  std::expected<void, std::string> save(const LastGoodPolicy& policy) const;
  // The same in two steps: written beside the file, in place once replace()d.
  std::expected<WrittenFile, std::string> write(const LastGoodPolicy& policy) const;
  // Absent file: std::nullopt inside the expected; a truncated, altered or
  // unreadable file is an error (with the reason), never a partial policy.
  std::expected<std::optional<LastGoodPolicy>, std::string> load() const;

 private:
  std::string dir_;
};

// The text form (exposed for tests).
std::string formatLastGood(const LastGoodPolicy& policy);
std::expected<LastGoodPolicy, std::string> parseLastGood(std::string_view text);

}  // namespace ringfence::daemon
