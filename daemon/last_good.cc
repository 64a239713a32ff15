#include "daemon/last_good.h"

#include <cerrno>
#include <cstring>
#include <optional>

#include "daemon/atomic_file.h"

namespace ringfence::daemon {
namespace {

constexpr std::string_view kMagic = "ringfence-last-good 1\n";
constexpr size_t kMaxFileSize = 256u << 20;  // far above any policy the loader accepts

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// "KEY VALUE\n" at the front of `text`; the value is consumed.
std::optional<uint64_t> header(std::string_view& text, std::string_view key, int base) {
  if (text.substr(0, key.size() + 1) != std::string(key) + " ") return std::nullopt;
  text.remove_prefix(key.size() + 1);
  size_t end = text.find('\n');
  if (end == std::string_view::npos || end == 0 || end > 20) return std::nullopt;
  std::string value(text.substr(0, end));
  text.remove_prefix(end + 1);
  char* stop = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(value.c_str(), &stop, base);
  if (errno != 0 || *stop != '\0' || value[0] == '-' || value[0] == '+') return std::nullopt;
  return v;
}

std::string headerOf(const LastGoodPolicy& p) {
  return std::string(kMagic) + "generation " + std::to_string(p.generation) + "\nhash " +
         hex64(p.hash) + "\nsaved-at " + std::to_string(p.savedAt) + "\n\n";
}

// Writes the file as it is serialized, through a buffer of 1 MiB: every
// profile's text is in it, and it is never held whole.
void writeLastGood(int fd, const LastGoodPolicy& p) {
  constexpr size_t kBuffer = size_t{1} << 20;
  std::string buffer;
  buffer.reserve(kBuffer);
  policy::serializeSources(p.sources, headerOf(p), [&](std::string_view bytes) {
    if (buffer.size() + bytes.size() > kBuffer) {
      writeFully(fd, buffer);
      buffer.clear();
    }
    if (bytes.size() >= kBuffer) {
      writeFully(fd, bytes);
    } else {
      buffer += bytes;
    }
  });
  writeFully(fd, buffer);
}

}  // namespace

std::string formatLastGood(const LastGoodPolicy& p) {
  return policy::serializeSources(p.sources, headerOf(p));
}

std::expected<LastGoodPolicy, std::string> parseLastGood(std::string_view text) {
  if (text.substr(0, kMagic.size()) != kMagic)
    return std::unexpected("not a last good policy file");
  text.remove_prefix(kMagic.size());
  LastGoodPolicy p;
  auto generation = header(text, "generation", 10);
  auto hash = generation ? header(text, "hash", 16) : std::nullopt;
  auto savedAt = hash ? header(text, "saved-at", 10) : std::nullopt;
  if (!savedAt || text.substr(0, 1) != "\n") return std::unexpected("damaged header");
  text.remove_prefix(1);
  auto sources = policy::parseSerializedSources(text);
  if (!sources) return std::unexpected("damaged policy sources: " + sources.error());
  if (policy::sourcesHash(*sources) != *hash)
    return std::unexpected("the policy sources do not match their hash");
  p.sources = std::move(*sources);
  p.generation = *generation;
  p.hash = *hash;
  p.savedAt = *savedAt;
  return p;
}

std::expected<void, std::string> LastGoodStore::save(const LastGoodPolicy& policy) const {
  return writeFileAtomically(dir_, path(), [&policy](int fd) { writeLastGood(fd, policy); });
}

std::expected<WrittenFile, std::string> LastGoodStore::write(const LastGoodPolicy& policy) const {
  return writeFileBeside(dir_, path(), [&policy](int fd) { writeLastGood(fd, policy); });
}

std::expected<std::optional<LastGoodPolicy>, std::string> LastGoodStore::load() const {
  const std::string file = path();
  auto text = readStateFile(file, kMaxFileSize);
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::optional<LastGoodPolicy>{};
  auto parsed = parseLastGood(**text);
  if (!parsed) return std::unexpected(file + ": " + parsed.error());
  return std::optional<LastGoodPolicy>(std::move(*parsed));
}

}  // namespace ringfence::daemon
