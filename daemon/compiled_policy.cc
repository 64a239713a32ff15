#include "daemon/compiled_policy.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "daemon/atomic_file.h"
#include "policy/packing.h"
#include "policy/policy_fields.h"
#include "policy/policy_packing.h"

namespace ringfence::daemon {
namespace {

constexpr std::string_view kMagic = "ringfence-compiled-policy 1\n";
constexpr size_t kMaxFileSize = size_t{4} << 30;  // 100,000 devices take about 300 MB

// FNV-1a 64 over 64-bit words (then the bytes left): a change to any word
// changes the sum (each step is a bijection), at a few ms for 100 MB.
uint64_t sum64(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, bytes.data() + i, 8);
    h = (h ^ w) * 1099511628211ull;
  }
  for (; i < bytes.size(); ++i) h = (h ^ static_cast<uint8_t>(bytes[i])) * 1099511628211ull;
  return h;
}

}  // namespace

std::string buildIdentity() {
  struct stat st {};
  if (stat("/proc/self/exe", &st) != 0) return {};
  std::string out;
  policy::Packer p(out);
  p(uint64_t{st.st_dev}, uint64_t{st.st_ino}, int64_t{st.st_size}, int64_t{st.st_mtim.tv_sec},
    int64_t{st.st_mtim.tv_nsec});
  return out;
}

std::string optionsKey(const policy::LoadOptions& o) {
  std::string out;
  policy::Packer p(out);
  p(o.configFile, o.configRequired, o.profilesDir, o.groupsFile, o.stateDir, o.table);
  return out;
}

std::string formatCompiledPolicy(const CompiledPolicy& c) {
  return formatCompiledPolicy(c, nullptr, nullptr);
}

std::string formatCompiledPolicy(const CompiledPolicy& c, const policy::Policy* policy,
                                 const policy::Plan* plan, size_t sizeHint) {
  // The body is packed in place, after room for its size (no copy of it).
  std::string out;
  out.reserve(sizeHint);
  out += kMagic;
  out.append(8, '\0');
  size_t bodyAt = out.size();
  policy::Packer p(out);
  p(c.build, c.options, c.sources, c.readingNotes, c.warnings);
  if (policy) {
    p.sized([&] { policy::packPolicy(p, *policy); });
  } else {
    p(c.policyBytes);
  }
  if (plan) {
    p.sized([&] { policy::packCompiledPlan(p, *plan); });
  } else {
    p(c.planBytes);
  }
  uint64_t size = out.size() - bodyAt;
  std::memcpy(out.data() + kMagic.size(), &size, 8);
  p.u64(sum64(std::string_view(out).substr(bodyAt)));
  return out;
}

std::expected<CompiledPolicy, std::string> parseCompiledPolicy(
    std::shared_ptr<const std::string> storage) {
  std::string_view text = *storage;
  if (text.substr(0, kMagic.size()) != kMagic) return std::unexpected("not a compiled policy file");
  try {
    policy::Unpacker file(text.substr(kMagic.size()));
    uint64_t size = file.u64();
    if (size + 8 != file.left()) return std::unexpected("the file is truncated or too long");
    std::string_view body = file.bytes(size);
    if (file.u64() != sum64(body)) return std::unexpected("the data does not match its sum");
    CompiledPolicy c;
    policy::Unpacker u(body);
    u(c.build, c.options, c.sources, c.readingNotes, c.warnings, c.policyBytes, c.planBytes);
    if (!u.done()) return std::unexpected("data after the last field");
    c.storage = std::move(storage);
    return c;
  } catch (const policy::PackingError& ex) {
    return std::unexpected(std::string("damaged: ") + ex.what());
  }
}

std::expected<void, std::string> CompiledPolicyStore::save(const std::string& formatted) const {
  return writeFileAtomically(dir_, path(), formatted);
}

std::expected<std::optional<CompiledPolicy>, std::string> CompiledPolicyStore::load() const {
  const std::string file = path();
  auto text = readStateFile(file, kMaxFileSize);
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::optional<CompiledPolicy>{};
  auto parsed = parseCompiledPolicy(std::make_shared<const std::string>(std::move(**text)));
  if (!parsed) return std::unexpected(file + ": " + parsed.error());
  return std::optional<CompiledPolicy>(std::move(*parsed));
}

void CompiledPolicyStore::remove() const { ::unlink(path().c_str()); }

}  // namespace ringfence::daemon
