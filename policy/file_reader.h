// Reading one policy file safely: only a regular file is opened, nothing
// blocks (a FIFO or a device is refused, not opened for a read that waits),
// the size is bounded, and a file that changes while it is read is retried
// and then refused.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <string>

namespace ringfence::policy {

// What stat() tells of a file that shows it changed (source_cache.h).
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  int64_t modifiedNs = 0;
  int64_t changedNs = 0;
  bool operator==(const FileStamp&) const = default;
};

inline constexpr size_t kMaxPolicyFileBytes = 1024 * 1024;  // profiles.md: at most 1 MiB

struct FileReadError {
  enum class Kind {
    Missing,  // no such file (and no symbolic link by that name)
    Refused,  // exists but cannot or must not be read; `message` says why
  };
  Kind kind = Kind::Refused;
  std::string message;  // for the admin, without the path: "file is a FIFO (named pipe), ..."
};

// The whole file, read at once. Symbolic links are followed; the file they
// lead to must be a regular file.
std::expected<std::string, FileReadError> readPolicyFile(const std::string& path,
                                                         size_t maxBytes = kMaxPolicyFileBytes);

// The same, calling `afterRead(attempt)` between reading and checking that
// the file did not change: the seam through which tests change a file while
// it is being read.
std::expected<std::string, FileReadError> readPolicyFile(
    const std::string& path, size_t maxBytes, const std::function<void(int attempt)>& afterRead);

// The same, also giving the file's modification time (st_mtim, nanoseconds
// since the epoch) as it was while the file was read.
std::expected<std::string, FileReadError> readPolicyFile(const std::string& path,
                                                         int64_t& modifiedNs);

// The same, also giving the stamp of the very file read, as it was while it
// was read (a path that names another file by then gives another stamp).
std::expected<std::string, FileReadError> readPolicyFile(const std::string& path, FileStamp& read);
// The same for `name` in the open directory `dir`, whose stat() (following
// links) the caller has just made: `looked` stands for the look before the
// first open (a file found not regular there is not opened).
std::expected<std::string, FileReadError> readPolicyFileAt(int dir, const std::string& name,
                                                           const struct stat& looked,
                                                           FileStamp& read);
// What a file that is not a regular file is, for messages: "a FIFO (named pipe)".
std::string describeFileType(unsigned mode);

}  // namespace ringfence::policy
