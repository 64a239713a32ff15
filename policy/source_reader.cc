// readPolicySources: the loader's only file access.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "policy/file_reader.h"
#include "policy/profile_names.h"
#include "policy/sources.h"
#include "policy/text_check.h"

namespace ringfence::policy {
namespace fs = std::filesystem;

namespace {

// A missing groups file means no groups (profiles.md).
void readGroups(const std::string& path, std::optional<SourceFile>& out, Diagnostics& diags) {
  auto text = readPolicyFile(path);
  if (text) {
    out = SourceFile{path, std::move(*text)};
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

// The paths the configuration names, as parsing will see them. Its errors are
// reported by parsing, not here.
DaemonConfig configPaths(const std::optional<SourceFile>& config, const LoadOptions& options) {
  DaemonConfig c;
  if (config && isValidUtf8(config->text)) {
    Diagnostics ignored;
    if (auto root = parseYaml(config->text, config->path, ignored)) {
      c = parseConfig(*root, config->path, ignored);
    }
  }
  if (options.profilesDir) c.profilesDir = *options.profilesDir;
  if (options.groupsFile) c.groupsFile = *options.groupsFile;
  return c;
}

// Entries of the profiles directory that hold a profile, in load order; every
// other entry but a hidden one is named in a warning.
std::vector<std::string> listProfiles(const std::string& dir, Diagnostics& diags) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    diags.error({dir, 1, 1}, "profiles directory does not exist or is not a directory");
    return files;
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::string path = it->path().string();
    if (name.empty() || name[0] == '.') continue;  // hidden: ignored without a word (spec)
    if (!isPrintableUtf8(name)) {
      diags.warning({dir + "/" + escapeForDisplay(name), 1, 1},
                    "not read: the file name is not printable UTF-8; rename the file");
      continue;
    }
    struct stat st {};
    bool exists = ::stat(path.c_str(), &st) == 0;
    int statError = errno;
    struct stat link {};
    bool isLink = ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode);
    if (!isProfileFileName(name)) {
      diags.warning({path, 1, 1}, "not read: " + notAProfileReason(name, exists ? st.st_mode : 0));
      continue;
    }
    if (!exists) {
      diags.warning({path, 1, 1}, isLink && statError == ENOENT
                                      ? "not read: a symbolic link to a file that does not exist"
                                      : std::string("not read: ") + std::strerror(statError));
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      diags.warning({path, 1, 1}, std::string("not read: ") +
                                      (isLink ? "a symbolic link to " : "") +
                                      describeFileType(st.st_mode) + ", not a regular file");
      continue;
    }
    files.push_back(path);
  }
  if (ec) diags.error({dir, 1, 1}, "cannot list profiles directory: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

PolicySources readPolicySources(const LoadOptions& options, Diagnostics& diags) {
  PolicySources sources;
  bool configRefused = false;
  if (auto text = readPolicyFile(options.configFile)) {
    sources.config = SourceFile{options.configFile, std::move(*text)};
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
  // A configuration that exists but cannot be read names other files than the
  // defaults: read only what the command line names, or errors would mislead.
  DaemonConfig paths = configPaths(sources.config, options);
  if (!configRefused || options.groupsFile) readGroups(paths.groupsFile, sources.groups, diags);
  if (configRefused && !options.profilesDir) return sources;
  for (const std::string& file : listProfiles(paths.profilesDir, diags)) {
    auto text = readPolicyFile(file);
    if (text) {
      sources.profiles.push_back(SourceFile{file, std::move(*text)});
    } else {
      diags.error({file, 1, 1}, text.error().message);  // vanished meanwhile, or refused
    }
  }
  return sources;
}

}  // namespace ringfence::policy
