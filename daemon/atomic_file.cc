#include "daemon/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>

namespace ringfence::daemon {
namespace {

struct Closing {
  int fd;
  ~Closing() { close(fd); }
};

}  // namespace

void writeFully(int fd, std::string_view bytes, std::optional<uint64_t> at) {
  size_t done = 0;
  while (done < bytes.size()) {
    const char* p = bytes.data() + done;
    size_t left = bytes.size() - done;
    ssize_t n = at ? pwrite(fd, p, left, static_cast<off_t>(*at + done)) : write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;
    if (n <= 0) throw std::system_error(errno, std::generic_category());
    done += static_cast<size_t>(n);
  }
}

std::expected<WrittenFile, std::string> writeFileBeside(const std::string& dir,
                                                        const std::string& target,
                                                        const std::function<void(int fd)>& fill) {
  auto fail = [&](const std::string& what, int error) {
    return std::unexpected(what + " " + target + ": " + std::strerror(error));
  };
  if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
    return fail("cannot create the directory of", errno);
  WrittenFile written(dir, target);
  // O_NOFOLLOW: a link planted in the state directory is never written through.
  int fd = open(written.tmp_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    written.tmp_.clear();  // not ours to remove
    return fail("cannot write", errno);
  }
  Closing closing{fd};
  try {
    fill(fd);
  } catch (const std::system_error& ex) {
    return fail("cannot write", ex.code().value());  // a full disk keeps no half-written file
  }
  if (fsync(fd) != 0) return fail("cannot write", errno);
  return written;
}

std::expected<WrittenFile, std::string> writeFileBeside(const std::string& dir,
                                                        const std::string& target,
                                                        const std::string& text) {
  return writeFileBeside(dir, target, [&text](int fd) { writeFully(fd, text); });
}

WrittenFile::WrittenFile(WrittenFile&& other) noexcept
    : dir_(std::move(other.dir_)), target_(std::move(other.target_)), tmp_(std::move(other.tmp_)) {
  other.tmp_.clear();
}

WrittenFile& WrittenFile::operator=(WrittenFile&& other) noexcept {
  if (this != &other) {
    if (!tmp_.empty()) unlink(tmp_.c_str());
    dir_ = std::move(other.dir_);
    target_ = std::move(other.target_);
    tmp_ = std::move(other.tmp_);
    other.tmp_.clear();
  }
  return *this;
}

WrittenFile::~WrittenFile() {
  if (!tmp_.empty()) unlink(tmp_.c_str());
}

std::expected<void, std::string> WrittenFile::replace() {
  auto fail = [&](const std::string& what, int error) {
    return std::unexpected(what + " " + target_ + ": " + std::strerror(error));
  };
  if (rename(tmp_.c_str(), target_.c_str()) != 0) return fail("cannot replace", errno);
  tmp_.clear();
  int dfd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return fail("cannot open the directory of", errno);
  bool ok = fsync(dfd) == 0;
  int saved = errno;
  close(dfd);
  // A file system that cannot sync a directory (EINVAL) still renamed the file.
  if (!ok && saved != EINVAL) return fail("cannot sync the directory of", saved);
  return {};
}

std::expected<void, std::string> writeFileAtomically(const std::string& dir,
                                                     const std::string& target,
                                                     const std::string& text) {
  auto written = writeFileBeside(dir, target, text);
  if (!written) return std::unexpected(written.error());
  return written->replace();
}

std::expected<void, std::string> writeFileAtomically(const std::string& dir,
                                                     const std::string& target,
                                                     const std::function<void(int fd)>& fill) {
  auto written = writeFileBeside(dir, target, fill);
  if (!written) return std::unexpected(written.error());
  return written->replace();
}

}  // namespace ringfence::daemon

namespace ringfence::daemon {

std::expected<std::optional<std::string>, std::string> readStateFile(const std::string& file,
                                                                     size_t maxBytes) {
  // Never blocks (a FIFO put in its place), never follows a link.
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return std::unexpected("cannot read " + file + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) > maxBytes) {
    close(fd);
    return std::unexpected(file + " is not a regular file of a sane size");
  }
  // Read straight into the text, one byte more than the size: a file that grew shows.
  std::string text(static_cast<size_t>(st.st_size) + 1, '\0');
  size_t got = 0;
  for (;;) {
    if (got == text.size()) {
      if (text.size() > maxBytes) {
        close(fd);
        return std::unexpected(file + " grew past " + std::to_string(maxBytes) +
                               " bytes while read");
      }
      text.resize(std::min(maxBytes + 1, text.size() * 2));
    }
    ssize_t n = read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      return std::unexpected("cannot read " + file + ": " + std::strerror(saved));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  if (got > maxBytes) {
    close(fd);
    return std::unexpected(file + " grew past " + std::to_string(maxBytes) + " bytes while read");
  }
  close(fd);
  return std::optional<std::string>(std::move(text));
}

}  // namespace ringfence::daemon
