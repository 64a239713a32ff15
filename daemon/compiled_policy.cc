#include "daemon/compiled_policy.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "daemon/atomic_file.h"
#include "policy/packing.h"
#include "policy/policy_fields.h"
#include "policy/policy_packing.h"

namespace ringfence::daemon {
namespace {

constexpr std::string_view kMagic = "ringfence-compiled-policy 2\n";
constexpr size_t kMaxFileSize = size_t{4} << 30;  // 100,000 devices take about 300 MB

constexpr uint64_t kSumStart = 1469598103934665603ull;
constexpr size_t kChunk = size_t{1}
                          << 20;  // a saved file is written and summed this much at a time

// FNV-1a 64 over 64-bit words (then the bytes left): a change to any word
// changes the sum (each step is a bijection), at a few ms for 100 MB. In
// pieces: `h` the sum of the pieces before, each of them a whole number of words.
uint64_t sum64(std::string_view bytes, uint64_t h = kSumStart) {
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, bytes.data() + i, 8);
    h = (h ^ w) * 1099511628211ull;
  }
  for (; i < bytes.size(); ++i) h = (h ^ static_cast<uint8_t>(bytes[i])) * 1099511628211ull;
  return h;
}

// The file's body after its header: what the sum and the size are of.
void packBody(policy::Packer& p, const CompiledPolicy& c, const policy::Policy* policy,
              const policy::Plan* plan) {
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
}

class FileSink : public policy::PackSink {
 public:
  explicit FileSink(int fd) : fd_(fd) {}
  void write(std::string_view bytes) override { writeFully(fd_, bytes); }
  void patch(uint64_t at, std::string_view bytes) override { writeFully(fd_, bytes, at); }

 private:
  int fd_;
};

// The sum of the file's bytes from `from` to `to`, read back a chunk at a time.
uint64_t sumOfFile(int fd, uint64_t from, uint64_t to) {
  std::string chunk(kChunk, '\0');
  uint64_t h = kSumStart;
  while (from < to) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, to - from));
    ssize_t n = pread(fd, chunk.data(), want, static_cast<off_t>(from));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;
    if (n <= 0) throw std::system_error(errno, std::generic_category());
    if (static_cast<size_t>(n) % 8 != 0 && from + static_cast<uint64_t>(n) < to) {
      throw std::system_error(EIO, std::generic_category());  // pieces must be whole words
    }
    h = sum64(std::string_view(chunk.data(), static_cast<size_t>(n)), h);
    from += static_cast<uint64_t>(n);
  }
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
                                 const policy::Plan* plan) {
  // The body is packed in place, after room for its size (no copy of it).
  std::string out;
  out += kMagic;
  out.append(8, '\0');
  size_t bodyAt = out.size();
  policy::Packer p(out);
  packBody(p, c, policy, plan);
  uint64_t size = out.size() - bodyAt;
  std::memcpy(out.data() + kMagic.size(), &size, 8);
  p.u64(sum64(std::string_view(out).substr(bodyAt)));
  return out;
}

uint64_t writeCompiledPolicy(int fd, const CompiledPolicy& c, const policy::Policy* policy,
                             const policy::Plan* plan, size_t spillAt) {
  std::string out;
  out.reserve(spillAt + spillAt / 4);
  out += kMagic;
  out.append(8, '\0');
  const uint64_t bodyAt = out.size();
  FileSink sink(fd);
  policy::Packer p(out, sink, spillAt);
  packBody(p, c, policy, plan);
  const uint64_t end = p.position();
  sink.write(out);
  uint64_t size = end - bodyAt;
  sink.patch(kMagic.size(), std::string_view(reinterpret_cast<const char*>(&size), 8));
  uint64_t sum = sumOfFile(fd, bodyAt, end);
  sink.patch(end, std::string_view(reinterpret_cast<const char*>(&sum), 8));
  return end + 8;
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

void giveBackAsUnpacked(policy::Unpacker& u, std::string_view region, size_t every) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  // Whole pages only, from the first that lies in the region on: the bytes
  // around the region (and the allocator's own) are never touched.
  auto next = (reinterpret_cast<uintptr_t>(region.data()) + page - 1) & ~(page - 1);
  u.onProgress(
      [next, page](const char* at) mutable {
        auto end = reinterpret_cast<uintptr_t>(at) & ~(page - 1);
        if (end <= next) return;
        madvise(reinterpret_cast<void*>(next), end - next, MADV_DONTNEED);
        next = end;
      },
      every);
}

std::expected<void, std::string> CompiledPolicyStore::save(const std::string& formatted) const {
  return writeFileAtomically(dir_, path(), formatted);
}

std::expected<uint64_t, std::string> CompiledPolicyStore::save(const CompiledPolicy& c,
                                                               const policy::Policy& policy,
                                                               const policy::Plan& plan) const {
  uint64_t bytes = 0;
  auto saved = writeFileAtomically(
      dir_, path(), [&](int fd) { bytes = writeCompiledPolicy(fd, c, &policy, &plan, kChunk); });
  if (!saved) return std::unexpected(saved.error());
  return bytes;
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
