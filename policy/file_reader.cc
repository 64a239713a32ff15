#include "policy/file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ringfence::policy {
namespace {

constexpr int kReadAttempts = 3;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

FileReadError refused(std::string message) {
  return FileReadError{FileReadError::Kind::Refused, std::move(message)};
}

std::string tooLarge(size_t maxBytes) {
  return "file is larger than " + std::to_string(maxBytes) + " bytes";
}

bool sameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// Why `name` (in `dir`, or AT_FDCWD) cannot be opened, knowing that open() failed with `error`.
FileReadError openError(int dir, const std::string& name, int error) {
  if (error == ENOENT) {
    struct stat link {};
    if (::fstatat(dir, name.c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(link.st_mode)) {
      return refused("file is a symbolic link to a file that does not exist");
    }
    return FileReadError{FileReadError::Kind::Missing, "does not exist"};
  }
  if (error == ELOOP) return refused("cannot open file: too many levels of symbolic links");
  return refused(std::string("cannot open file: ") + std::strerror(error));
}

enum class Attempt { Stable, Changed };

// `name` is a path relative to the directory `dir` (AT_FDCWD: the current
// one). `looked`: the caller's stat() of it, just made, which stands for the
// look before the first open.
std::expected<std::string, FileReadError> readFile(
    int dir, const std::string& name, size_t maxBytes,
    const std::function<void(int attempt)>& afterRead, int64_t* modifiedNs,
    FileStamp* stamp = nullptr, const struct stat* looked = nullptr);

}  // namespace

std::string describeFileType(unsigned mode) {
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISREG(mode)) return "a regular file";
  return "not a regular file";
}

std::expected<std::string, FileReadError> readPolicyFile(const std::string& path, size_t maxBytes) {
  return readPolicyFile(path, maxBytes, nullptr);
}

std::expected<std::string, FileReadError> readPolicyFile(const std::string& path,
                                                         int64_t& modifiedNs) {
  return readFile(AT_FDCWD, path, kMaxPolicyFileBytes, nullptr, &modifiedNs);
}

std::expected<std::string, FileReadError> readPolicyFile(const std::string& path, FileStamp& read) {
  return readFile(AT_FDCWD, path, kMaxPolicyFileBytes, nullptr, nullptr, &read);
}

std::expected<std::string, FileReadError> readPolicyFileAt(int dir, const std::string& name,
                                                           const struct stat& looked,
                                                           FileStamp& read) {
  return readFile(dir, name, kMaxPolicyFileBytes, nullptr, nullptr, &read, &looked);
}

std::expected<std::string, FileReadError> readPolicyFile(
    const std::string& path, size_t maxBytes, const std::function<void(int attempt)>& afterRead) {
  return readFile(AT_FDCWD, path, maxBytes, afterRead, nullptr);
}

namespace {

std::expected<std::string, FileReadError> readFile(
    int dir, const std::string& name, size_t maxBytes,
    const std::function<void(int attempt)>& afterRead, int64_t* modifiedNs, FileStamp* stamp,
    const struct stat* looked) {
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    // Look before opening: a device or a FIFO is never opened at all.
    struct stat pre {};
    if (attempt == 0 && looked) {
      pre = *looked;
    } else if (::fstatat(dir, name.c_str(), &pre, 0) != 0) {
      return std::unexpected(openError(dir, name, errno));
    }
    if (!S_ISREG(pre.st_mode)) {
      return std::unexpected(
          refused("file is " + describeFileType(pre.st_mode) + ", not a regular file"));
    }
    // O_NONBLOCK: should it have become a FIFO since, open() and read() do not wait.
    Fd fd(::openat(dir, name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) return std::unexpected(openError(dir, name, errno));
    struct stat before {};
    if (::fstat(fd.get(), &before) != 0) {
      return std::unexpected(refused(std::string("cannot read file: ") + std::strerror(errno)));
    }
    if (!S_ISREG(before.st_mode)) {
      return std::unexpected(
          refused("file is " + describeFileType(before.st_mode) + ", not a regular file"));
    }
    if (static_cast<uint64_t>(before.st_size) > maxBytes) {
      return std::unexpected(refused(tooLarge(maxBytes)));
    }
    // Read to the end, but never more than one byte past the limit.
    std::string text;
    text.reserve(static_cast<size_t>(before.st_size));
    char chunk[16384];
    for (;;) {
      size_t room = maxBytes + 1 - text.size();
      size_t asked = std::min(sizeof chunk, room);
      ssize_t n = ::read(fd.get(), chunk, asked);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;  // not a regular file after all: fstat below says so
      if (n < 0) {
        return std::unexpected(refused(std::string("cannot read file: ") + std::strerror(errno)));
      }
      if (n == 0) break;
      text.append(chunk, static_cast<size_t>(n));
      if (text.size() > maxBytes) return std::unexpected(refused(tooLarge(maxBytes)));
      // Read as far as fstat() said and short of what was asked: the end,
      // without one more read() to see it (a file written meanwhile fails
      // the comparison of sizes and times below and is read again; a read
      // that is short before that size, as network and FUSE file systems
      // may give, goes on).
      if (static_cast<size_t>(n) < asked && text.size() == static_cast<size_t>(before.st_size)) {
        break;
      }
    }
    if (afterRead) afterRead(attempt);
    struct stat after {};
    if (::fstat(fd.get(), &after) != 0) {
      return std::unexpected(refused(std::string("cannot read file: ") + std::strerror(errno)));
    }
    // The same inode, size and times before and after, the size matching what
    // was read, and the path still naming that inode: nobody wrote meanwhile.
    struct stat now {};
    bool stable = sameFile(before, after) && text.size() == static_cast<size_t>(after.st_size) &&
                  ::fstatat(dir, name.c_str(), &now, 0) == 0 && now.st_dev == after.st_dev &&
                  now.st_ino == after.st_ino;
    if (stable) {
      auto ns = [](const timespec& t) { return t.tv_sec * int64_t{1000000000} + t.tv_nsec; };
      if (modifiedNs) *modifiedNs = ns(after.st_mtim);
      if (stamp)
        *stamp = {after.st_dev, after.st_ino, after.st_size, ns(after.st_mtim), ns(after.st_ctim)};
      return text;
    }
  }
  return std::unexpected(refused("file is changing while being read; try again"));
}

}  // namespace

}  // namespace ringfence::policy
