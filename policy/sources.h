// A policy in two steps: reading every file it is made of (the only file
// access of the loader), then parsing and validating those texts from memory.
// The daemon keeps the sources of the last policy it applied, so it can
// enforce exactly that policy again when the files on disk are refused.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/diagnostic.h"
#include "policy/file_reader.h"
#include "policy/loader.h"
#include "policy/shared_text.h"

namespace ringfence::policy {

class SourceCache;

struct SourceFile {
  SharedText path;  // as the diagnostics name it; the profile's locations share it
  SharedText text;
  // st_mtim when read, in nanoseconds; 0 when unknown (saved sources). It
  // only decides which of two files a conflict between them is blamed on
  // (docs/policy-loading.md), so it is neither saved nor compared.
  int64_t modifiedNs = 0;
  // A profile read through a cache: the stamp the text goes with, unless the
  // file was modified within the racy window before it was read (then its
  // text may not be taken as the file's without reading it again). Neither
  // saved with the sources nor compared.
  std::optional<FileStamp> stamp{};
  bool operator==(const SourceFile& o) const { return path == o.path && text == o.text; }
};

struct PolicySources {
  std::optional<SourceFile> config;  // absent: no config file (all defaults)
  std::optional<SourceFile> groups;  // absent: no groups file
  std::vector<SourceFile> profiles;  // in load order (sorted by path)
  bool operator==(const PolicySources&) const = default;
};

// Reads every file the options name, with the file-safety rules of
// docs/policy-loading.md: only regular files are opened, never blocking, at
// most 1 MiB each, and only a file that did not change while it was read.
// Reading problems (missing directory, unreadable file, FIFO, too large,
// changing) are errors in `diags`; entries of the profiles directory that are
// not loaded are warnings naming them. A file with an error is left out.
// With a cache, a profile whose file is unchanged is not read again (source_cache.h).
PolicySources readPolicySources(const LoadOptions& options, Diagnostics& diags,
                                SourceCache* cache = nullptr);

// Parses and validates from memory only (no file access): the same
// diagnostics as loading from disk. The configuration in `sources` decides
// the table and the other settings; the overrides in `options` still apply.
// With a cache, a profile whose text was parsed before is not parsed again.
LoadResult loadPolicy(const PolicySources& sources, const LoadOptions& options,
                      SourceCache* cache = nullptr);

// One-file text form of the sources (for saving the last good policy
// atomically) and back. Length-prefixed, so any bytes survive; a truncated or
// altered text is refused with the reason.
std::string serializeSources(const PolicySources& s);
// The same after `before` (a header of the caller's), made at its size at once.
std::string serializeSources(const PolicySources& s, std::string_view before);
// The same bytes handed to `emit` piece by piece, never held whole (a file's
// text is one piece): for writing them to a file, or hashing them.
using SourceBytes = std::function<void(std::string_view)>;
void serializeSources(const PolicySources& s, std::string_view before, const SourceBytes& emit);
std::expected<PolicySources, std::string> parseSerializedSources(std::string_view text);

// FNV-1a 64 over serializeSources(s): stable across runs and builds.
uint64_t sourcesHash(const PolicySources& s);

}  // namespace ringfence::policy
