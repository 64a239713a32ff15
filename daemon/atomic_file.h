// Files in the state directory are replaced whole: write a temporary file,
// fsync it, rename it over the old one, fsync the directory. A crash or a full
// disk leaves the old file or the new one, never a mix, and never a
// half-written temporary file.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ringfence::daemon {

// Creates `dir` (0750) if needed; `target` is a path inside it. The error
// names the file and what failed (with strerror); on error the old file is intact.
std::expected<void, std::string> writeFileAtomically(const std::string& dir,
                                                     const std::string& target,
                                                     const std::string& text);

// The same in two steps, for a file that must replace the old one only once
// something else succeeded: the text written and synced beside the target,
// then replace() renames it over the target and syncs the directory. A
// WrittenFile dropped without replace() removes its temporary file.
class WrittenFile {
 public:
  WrittenFile(WrittenFile&& other) noexcept;
  WrittenFile& operator=(WrittenFile&& other) noexcept;
  ~WrittenFile();
  std::expected<void, std::string> replace();

 private:
  friend std::expected<WrittenFile, std::string> writeFileBeside(
      const std::string&, const std::string&, const std::function<void(int fd)>&);
  WrittenFile(std::string dir, std::string target)
      : dir_(std::move(dir)), target_(std::move(target)), tmp_(target_ + ".tmp") {}
  std::string dir_, target_, tmp_;  // tmp_ empty once renamed (or never created)
};
std::expected<WrittenFile, std::string> writeFileBeside(const std::string& dir,
                                                        const std::string& target,
                                                        const std::string& text);
// The same with the bytes written by `fill`, as writeFileAtomically's below.
std::expected<WrittenFile, std::string> writeFileBeside(const std::string& dir,
                                                        const std::string& target,
                                                        const std::function<void(int fd)>& fill);

// All of `bytes` to `fd`, at its offset or at `at`; std::system_error if a
// call fails (a write of nothing is EIO).
void writeFully(int fd, std::string_view bytes, std::optional<uint64_t> at = std::nullopt);

// Writes a file too large to hold whole first: `fill` writes its bytes to the
// new file's descriptor (open to read and write, empty) and throws
// std::system_error on a failed call. The same steps and errors as above;
// anything `fill` throws leaves no temporary file (other exceptions pass on).
std::expected<void, std::string> writeFileAtomically(const std::string& dir,
                                                     const std::string& target,
                                                     const std::function<void(int fd)>& fill);

// The whole of a file in the state directory: std::nullopt if there is none;
// an error for anything but a regular file of at most `maxBytes` (never
// follows a link, never blocks on a FIFO put in its place).
std::expected<std::optional<std::string>, std::string> readStateFile(const std::string& file,
                                                                     size_t maxBytes);

}  // namespace ringfence::daemon
