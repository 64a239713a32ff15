// readPolicySources: the loader's only file access.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>

#include "policy/file_reader.h"
#include "policy/parallel.h"
#include "policy/profile_names.h"
#include "policy/source_cache.h"
#include "policy/source_text.h"
#include "policy/sources.h"
#include "policy/text_check.h"

namespace ringfence::policy {
namespace fs = std::filesystem;

namespace {

// A missing groups file means no groups (profiles.md).
void readGroups(const std::string& path, std::optional<SourceFile>& out, Diagnostics& diags) {
  int64_t modified = 0;
  auto text = readPolicyFile(path, modified);
  if (text) {
    out = SourceFile{path, std::move(*text), modified};
    return;
  }
  switch (text.error().kind) {
    case FileReadError::Kind::Missing:
      return;
    case FileReadError::Kind::Refused:
      diags.error({path, 1, 1}, text.error().message);
      return;
  }
}

// The paths the configuration names, as parsing will see them, and where it
// names the profiles directory; nothing when the configuration exists but
// cannot be parsed. Its errors are reported by parsing, not here.
struct ConfigPaths {
  DaemonConfig config;
  std::optional<SourceLocation> profilesAt;  // the `profiles:` value
};
std::optional<ConfigPaths> configPaths(const std::optional<SourceFile>& config) {
  ConfigPaths c;
  if (config) {
    Diagnostics ignored;
    auto root = parseSourceFile(*config, ignored);
    if (!root) return std::nullopt;
    c.config = parseConfig(*root, config->path, ignored);
    for (const YamlEntry& e : root->entries) {
      if (e.key.scalar == "profiles") c.profilesAt = {config->path, e.value.line, e.value.column};
    }
  }
  return c;
}

struct Listed {
  std::string path;
  std::string name;   // in the directory listed
  struct stat st {};  // as listing found it (links followed)
  FileStamp stamp;    // of st
  bool operator<(const Listed& o) const { return path < o.path; }
};

// The directory listed: its profiles are read through it.
class DirFd {
 public:
  DirFd() = default;
  DirFd(const DirFd&) = delete;
  DirFd& operator=(const DirFd&) = delete;
  ~DirFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  void open(const std::string& dir) {
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

FileStamp stampOf(const struct stat& st) {
  auto ns = [](const timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; };
  return {st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
}

// The names in the profiles directory, but hidden ones (ignored without a
// word, spec), in path order, with what each name says; the errno of a
// failed listing in `error`.
DirectoryEntries listNames(int dirfd, int& error) {
  DirectoryEntries out;
  std::vector<std::string>& names = out.names;
  int copy = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);  // closedir() closes the copy
  std::unique_ptr<DIR, int (*)(DIR*)> listing(copy < 0 ? nullptr : ::fdopendir(copy), ::closedir);
  if (!listing) {
    error = errno;
    if (copy >= 0) ::close(copy);
    return out;
  }
  while (true) {
    errno = 0;
    const dirent* e = ::readdir(listing.get());
    if (!e) {
      error = errno;
      break;
    }
    if (e->d_name[0] == '\0' || e->d_name[0] == '.') continue;
    names.emplace_back(e->d_name);
  }
  std::sort(names.begin(), names.end());
  out.kinds.reserve(names.size());
  for (const std::string& name : names) {
    out.kinds.push_back(!isPrintableUtf8(name)     ? DirectoryEntries::kNotPrintable
                        : !isProfileFileName(name) ? DirectoryEntries::kNotAProfile
                                                   : DirectoryEntries::kProfile);
  }
  return out;
}

// Entries of the profiles directory that hold a profile, in load order; every
// other entry but a hidden one is named in a warning.
// A missing directory is reported where the configuration names it, if it does.
// With a cache, a directory whose stamp shows no entry came, went or was
// renamed since it was last listed is not listed again (source_cache.h);
// every entry is looked at with stat() on every load.
std::vector<Listed> listProfiles(const std::string& dir,
                                 const std::optional<SourceLocation>& namedAt, Diagnostics& diags,
                                 SourceCache* cache, int64_t nowNs, DirFd& opened) {
  std::vector<Listed> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (namedAt) {
      diags.error(*namedAt,
                  "profiles directory '" + dir + "' does not exist or is not a directory");
    } else {
      diags.error({dir, 1, 1}, "profiles directory does not exist or is not a directory");
    }
    return files;
  }
  struct Entry {
    struct stat st {};
    int statError = 0;  // 0: st holds the stat() of the entry
  };
  int listError = 0;
  DirectoryEntries listed;
  const DirectoryEntries* names = &listed;
  // The listing, the stat() of each entry and the reads are of one
  // directory, the one opened here, even if another is renamed into its
  // place meanwhile.
  opened.open(dir);
  int dirfd = opened.get();
  std::optional<FileStamp> dirStamp;
  if (dirfd < 0) {
    listError = errno;
  } else {
    struct stat dst {};
    if (::fstat(dirfd, &dst) == 0) dirStamp = stampOf(dst);
    const DirectoryEntries* known =
        cache && dirStamp ? cache->listing(dir, *dirStamp, nowNs) : nullptr;
    if (known) {
      names = known;
    } else {
      if (cache) cache->countListed();
      listed = listNames(dirfd, listError);
      if (cache && dirStamp && !listError) {
        if (auto* kept = cache->storeListing(dir, *dirStamp, std::move(listed), nowNs))
          names = kept;
      }
    }
  }
  std::vector<Entry> entries(names->names.size());
  // Thousands of stat() calls: they overlap on several threads.
  constexpr size_t kFilesPerThread = 1024;
  parallelFor(entries.size(), kFilesPerThread, 2, [&](size_t i) {
    if (::fstatat(dirfd, names->names[i].c_str(), &entries[i].st, 0) != 0)
      entries[i].statError = errno;
  });
  std::string prefix = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  files.reserve(names->names.size());
  for (size_t i = 0; i < names->names.size(); ++i) {
    const std::string& name = names->names[i];
    const Entry& e = entries[i];
    if (names->kinds[i] == DirectoryEntries::kNotPrintable) {
      diags.warning({dir + "/" + escapeForDisplay(name), 1, 1},
                    "not read: the file name is not printable UTF-8; rename the file");
      continue;
    }
    std::string path = prefix + name;
    const struct stat& st = e.st;
    bool exists = e.statError == 0;
    int statError = e.statError;
    auto isLink = [&] {
      struct stat link {};
      return ::fstatat(dirfd, name.c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0 &&
             S_ISLNK(link.st_mode);
    };
    if (names->kinds[i] == DirectoryEntries::kNotAProfile) {
      diags.warning({path, 1, 1}, "not read: " + notAProfileReason(name, exists ? st.st_mode : 0));
      continue;
    }
    if (!exists) {
      diags.warning({path, 1, 1}, isLink() && statError == ENOENT
                                      ? "not read: a symbolic link to a file that does not exist"
                                      : std::string("not read: ") + std::strerror(statError));
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      diags.warning({path, 1, 1}, std::string("not read: ") +
                                      (isLink() ? "a symbolic link to " : "") +
                                      describeFileType(st.st_mode) + ", not a regular file");
      continue;
    }
    files.push_back({std::move(path), name, st, stampOf(st)});
  }
  if (listError) {
    diags.error({dir, 1, 1},
                std::string("cannot list profiles directory: ") + std::strerror(listError));
  }
  return files;  // in path order: the names are sorted, and have one prefix
}

// Thousands of small files: their system calls overlap on several threads.
// A file the cache shows unchanged is not read again.
struct ReadResult {
  std::expected<SharedText, FileReadError> text;
  bool reused = false;
  FileStamp read;  // of the very file read, or the listed one when reused
};
std::vector<ReadResult> readAll(const std::vector<Listed>& files, int dirfd,
                                const SourceCache* cache, int64_t nowNs) {
  std::vector<ReadResult> out(files.size());
  constexpr size_t kFilesPerThread = 256;
  parallelFor(files.size(), kFilesPerThread, 4, [&](size_t i) {
    if (const SharedText* known =
            cache ? cache->text(files[i].path, files[i].stamp, nowNs) : nullptr) {
      out[i] = {*known, true, files[i].stamp};
      return;
    }
    auto read = readPolicyFileAt(dirfd, files[i].name, files[i].st, out[i].read);
    if (read) {
      out[i].text = SharedText(std::move(*read));
    } else {
      out[i].text = std::unexpected(std::move(read.error()));
    }
  });
  return out;
}

}  // namespace

PolicySources readPolicySources(const LoadOptions& options, Diagnostics& diags,
                                SourceCache* cache) {
  PolicySources sources;
  bool configRefused = false;
  int64_t configModified = 0;
  if (auto text = readPolicyFile(options.configFile, configModified)) {
    sources.config = SourceFile{options.configFile, std::move(*text), configModified};
  } else {
    switch (text.error().kind) {
      case FileReadError::Kind::Missing:
        if (options.configRequired) {
          diags.error({options.configFile, 1, 1}, "configuration file does not exist");
        }
        break;
      case FileReadError::Kind::Refused:
        diags.error({options.configFile, 1, 1}, text.error().message);
        configRefused = true;
        break;
    }
  }
  // A configuration that exists but cannot be read or parsed names other
  // files than the defaults: read only what the command line names, or the
  // errors would mislead.
  std::optional<ConfigPaths> fromConfig =
      configRefused ? std::nullopt : configPaths(sources.config);
  DaemonConfig paths = fromConfig ? fromConfig->config : DaemonConfig{};
  std::optional<SourceLocation> profilesAt = fromConfig ? fromConfig->profilesAt : std::nullopt;
  if (options.profilesDir) {
    paths.profilesDir = *options.profilesDir;
    profilesAt.reset();
  }
  if (options.groupsFile) paths.groupsFile = *options.groupsFile;
  if (fromConfig || options.groupsFile) readGroups(paths.groupsFile, sources.groups, diags);
  if (!fromConfig && !options.profilesDir) return sources;
  int64_t nowNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  DirFd dir;
  std::vector<Listed> files = listProfiles(paths.profilesDir, profilesAt, diags, cache, nowNs, dir);
  std::vector<ReadResult> texts = readAll(files, dir.get(), cache, nowNs);
  size_t reused = 0;
  sources.profiles.reserve(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    ReadResult& r = texts[i];
    if (!r.text) {  // vanished meanwhile, or refused
      diags.error({files[i].path, 1, 1}, r.text.error().message);
      continue;
    }
    std::optional<FileStamp> stamp;
    if (cache && r.reused) {  // the cache keeps it: text() found it
      stamp = files[i].stamp;
      ++reused;
    } else if (cache) {
      // A file modified within the racy window may be written again without
      // a visible change, and a path may name another file than the one
      // listed by the time it is read: such a text is kept (for parsing),
      // never reused unread.
      stamp = cache->stampToKeep(files[i].stamp, r.read, nowNs);
      cache->storeText(files[i].path, stamp, *r.text);
    }
    sources.profiles.push_back(
        SourceFile{files[i].path, std::move(*r.text), r.read.modifiedNs, stamp});
  }
  if (cache) cache->countRead(files.size() - reused, reused);
  return sources;
}

}  // namespace ringfence::policy
