// The compiled policy: what the daemon made of the policy on disk the last
// time it applied it (the policy, its plan as compiled, the sources with
// their files' stamps, the load's warnings), saved in
// STATE_DIR/compiled-policy after the apply, so that a start whose files are
// those very files applies it without parsing or compiling a profile
// (docs/policy-loading.md, "Starting from the compiled policy").
//
// It is taken only from the build that wrote it (the executable's device,
// inode, size and modification time) with the same load options, and only
// when the files read now are byte for byte the sources it was made of. The
// bytes are checked against a 64-bit sum (FNV-1a over words); anything else that is wrong
// with the file makes it unusable, never a partial policy.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/loader.h"
#include "policy/model.h"
#include "policy/packing.h"
#include "policy/plan.h"
#include "policy/sources.h"

namespace ringfence::daemon {

struct CompiledPolicy {
  std::string build;                      // buildIdentity() of the writer
  std::string options;                    // optionsKey() of its load
  policy::PolicySources sources;          // with the profiles' stamps
  std::vector<std::string> readingNotes;  // the reading's diagnostics, formatted
  std::vector<std::string> warnings;      // every warning of the load, formatted
  // Packed by policy_packing.h; kept packed, for comparing with a compile from
  // scratch. Views into `storage` once parsed, into the caller's strings when saved.
  std::string_view policyBytes;
  std::string_view planBytes;
  std::shared_ptr<const std::string> storage;  // the file's text, when parsed
};

// This executable, as stat() of /proc/self/exe gives it; empty if it cannot be told.
std::string buildIdentity();
// The load options, as bytes that differ whenever the options do.
std::string optionsKey(const policy::LoadOptions& options);

// The whole file: its header, the packed fields and their sum.
std::string formatCompiledPolicy(const CompiledPolicy& c);
// The same file with `policy` and `plan` packed straight into it in place of
// c.policyBytes and c.planBytes.
std::string formatCompiledPolicy(const CompiledPolicy& c, const policy::Policy* policy,
                                 const policy::Plan* plan);
// The same file written to `fd` (new and empty, open to read and write) as it
// is packed: handed to the file whenever `spillAt` bytes are packed, its
// sizes written in place, its sum read back from the file. The whole file is
// never held. Returns its size; throws std::system_error if a call fails.
uint64_t writeCompiledPolicy(int fd, const CompiledPolicy& c, const policy::Policy* policy,
                             const policy::Plan* plan, size_t spillAt);
// The result's byte views point into `text`, which it keeps.
std::expected<CompiledPolicy, std::string> parseCompiledPolicy(
    std::shared_ptr<const std::string> text);

// Has `u`, unpacking `region` (the policy's or the plan's bytes of a parsed
// compiled policy), give back to the system the memory of the whole pages
// of the region it has unpacked, as it goes (every `every` bytes): the file is read
// whole, and the bytes and what they unpack to were both held until the
// end (about 300 MB and 600 MB at 100,000 devices). Those bytes read as
// zeros afterwards: nothing may read them again (the sum is checked before).
void giveBackAsUnpacked(policy::Unpacker& u, std::string_view region,
                        size_t every = size_t{1} << 20);

class CompiledPolicyStore {
 public:
  explicit CompiledPolicyStore(std::string dir) : dir_(std::move(dir)) {}
  std::string path() const { return dir_ + "/compiled-policy"; }
  std::expected<void, std::string> save(const std::string& formatted) const;
  // Writes the file of `c` with `policy` and `plan` packed straight into it
  // (writeCompiledPolicy), then puts it in place: the file's size.
  std::expected<uint64_t, std::string> save(const CompiledPolicy& c, const policy::Policy& policy,
                                            const policy::Plan& plan) const;
  // Absent file: std::nullopt inside the expected; anything wrong with it, an error.
  std::expected<std::optional<CompiledPolicy>, std::string> load() const;
  void remove() const;

 private:
  std::string dir_;
};

}  // namespace ringfence::daemon
