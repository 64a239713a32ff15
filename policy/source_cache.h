// What earlier loads read and parsed, so that a reload re-reads only the
// profiles whose file changed and re-parses only those whose text changed
// (docs/policy-loading.md, "Reloading what changed").
//
// A file is taken as unchanged when its identity (device, inode), size,
// modification time and status-change time are those of the earlier read,
// and that read came at least kRacyWindow after the file's last
// modification: a file read sooner could have been written again within
// the file system's timestamp granularity without a visible change, so it
// is read again (until a read finds it older). A text is parsed again unless it is byte for byte
// the text parsed before under the same path. Everything that depends on more than one file (names,
// addresses, MACs, limits) is checked again over every profile on every load; a
// device's groups are resolved again when it or a group it names changed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "policy/claim_index.h"
#include "policy/diagnostic.h"
#include "policy/model.h"
#include "policy/sources.h"

namespace ringfence::policy {

struct ParsedProfile {
  DeviceList::Ptr device;  // none when the profile has no usable name
  Diagnostics diags;
};

// A parsed device with its groups resolved (loader.cc), and what resolving it
// found. It is taken again for the same parsed device while every group the
// device names has the members it was resolved with (a group that was
// undefined is still undefined): a changed group resolves again exactly the
// devices that use it.
struct ResolvedProfile {
  // What it was resolved from: once stored, the device itself, which the
  // cache then keeps as the text's parse too (a parse is a resolution with
  // Rule::resolved left empty: resolving again clears it first).
  DeviceList::Ptr parsed;
  DeviceList::Ptr device;
  Diagnostics diags;    // of resolving alone
  size_t elements = 0;  // its compiled size (limits.h)
  // Each group the device names, with its members then (none: undefined),
  // one list shared by every device of a load that names the group.
  using Members = std::shared_ptr<const std::vector<IpPrefix>>;
  using GroupMembers = std::pair<SharedText, Members>;
  std::vector<GroupMembers> groups;
};

// The entries of a profiles directory but hidden ones, in name order, each
// with what its name alone says of it.
struct DirectoryEntries {
  enum Kind : uint8_t { kNotPrintable, kNotAProfile, kProfile };
  std::vector<std::string> names;
  std::vector<Kind> kinds;  // parallel to names
};

class SourceCache {
 public:
  static constexpr std::chrono::seconds kRacyWindow{2};
  explicit SourceCache(std::chrono::nanoseconds racyWindow = kRacyWindow)
      : racyWindow_(racyWindow) {}

  // Held for a whole load: one load at a time uses the cache.
  std::unique_lock<std::mutex> lock() { return std::unique_lock(mutex_); }

  // The text read earlier from `path`, if `now` (stat of the file, at
  // `nowNs` on the wall clock) shows it unchanged (the entry is then kept);
  // nullptr otherwise. Safe from several threads at once, each with its own
  // path, as long as nothing is stored meanwhile.
  const SharedText* text(const std::string& path, const FileStamp& now, int64_t nowNs) const;
  // The stamp a text read now may be reused under, unread, by later loads:
  // the listing's stamp of the file, if the file read is that very file (the
  // path may name another by then) and was not modified within the racy
  // window before `nowNs`; otherwise none (the text is read again next time).
  std::optional<FileStamp> stampToKeep(const FileStamp& listed, const FileStamp& read,
                                       int64_t nowNs) const {
    if (read != listed || racy(listed, nowNs)) return std::nullopt;
    return listed;
  }
  // Modified or changed within the racy window before `nowNs`.
  bool racy(const FileStamp& stamp, int64_t nowNs) const { return racy(stamp, nowNs, racyWindow_); }
  static bool racy(const FileStamp& stamp, int64_t nowNs, std::chrono::nanoseconds window) {
    return nowNs - stamp.modifiedNs < window.count() || nowNs - stamp.changedNs < window.count();
  }
  // A directory's listing is never taken again within this long of its last
  // change, whatever the window (tests shorten it for files): entries that
  // come and go within one tick of the file system's clock leave its times
  // as they were.
  static constexpr std::chrono::milliseconds kMinListingWindow{100};
  // The result of parsing exactly `text` as the profile `path` (the entry is
  // then kept), or nullptr (the same threading as text()); with `resolved`,
  // also what resolving it gave last (nullptr if nothing), for stillResolves().
  const ParsedProfile* parsed(const std::string& path, const SharedText& text,
                              const ResolvedProfile** resolved = nullptr) const;
  // `r` is the resolution of exactly `parsed`, and every group it names is in
  // `groups` as it was.
  static bool stillResolves(const ResolvedProfile& r, const DeviceList::Ptr& parsed,
                            const std::map<std::string, Group>& groups);
  void storeResolved(const std::string& path, ResolvedProfile resolved);
  // Who claims each name, address and MAC of the last load's devices.
  ClaimIndex& claims() { return claims_; }
  // The names the profiles directory `dir` held when it was last listed, if
  // `now` (its stat, at `nowNs`) shows that no entry came, went or was
  // renamed since (the directory's identity, modification and status-change
  // times are the same, and that listing came at least the racy window after
  // its last change); nullptr otherwise.
  const DirectoryEntries* listing(const std::string& dir, const FileStamp& now,
                                  int64_t nowNs) const;
  // A listing of `dir` made at `nowNs`, and where it is kept now; nothing
  // is kept, nor `names` moved, if the directory changed within the racy
  // window before (it may change again unseen).
  const DirectoryEntries* storeListing(const std::string& dir, const FileStamp& stamp,
                                       DirectoryEntries&& entries, int64_t nowNs);
  // What was read (a text of unknown stamp: std::nullopt), and what it parsed to.
  void storeText(const std::string& path, const std::optional<FileStamp>& stamp, SharedText text);
  void storeParsed(const std::string& path, const SharedText& text, ParsedProfile parsed);
  // `path` is still part of the policy (its entry stays).
  void keep(const std::string& path);
  // Forgets every file that was neither stored nor kept since the last call
  // (removed profiles), and makes the counts the last load's. `kept`: how
  // many distinct profiles the load found or stored, if known (when that is
  // every entry, none is looked at).
  void endLoad(std::optional<size_t> kept = std::nullopt);
  // Forgets everything: the next load reads and parses every file.
  void clear() {
    entries_.clear();
    listing_.reset();
    claims_.clear();
    counts_ = {};
    sameAs_.clear();
  }
  // The next load (a start check: every file read and parsed again) still
  // parses and resolves every profile, and a device it resolves equal field
  // for field to the one of its name in `devices` (the policy started from)
  // is replaced by that one: the load, its policy and this cache then hold
  // one copy of what is the same. endLoad() ends it.
  void shareEqual(const DeviceList& devices);
  // The device of `d`'s name given to shareEqual() if equal to `d`, else
  // nullptr. Safe from several threads at once.
  DeviceList::Ptr equalShared(const Device& d) const;
  // The same for a device just parsed (its rules not resolved), so that the
  // load holds that one from the start and not a parse of its own beside
  // it: equal when `parsed`, given the resolved peers of the device of its
  // name, is equal to it field for field. The load resolves it again all
  // the same (on a copy), and equalShared() judges that. `parsed` is left
  // as it was (its resolved peers empty). Safe from several threads at once.
  DeviceList::Ptr sameParse(Device& parsed) const;

  struct Counts {
    size_t read = 0, reused = 0, parsed = 0, parseReused = 0, resolved = 0, resolveReused = 0;
    bool listed = false;  // the profiles directory was listed (not its last listing taken)
  };
  const Counts& lastLoad() const { return last_; }
  void countRead(size_t read, size_t reused) {
    counts_.read += read;
    counts_.reused += reused;
  }
  void countParsed(size_t parsed, size_t reused) {
    counts_.parsed += parsed;
    counts_.parseReused += reused;
  }
  void countListed() { counts_.listed = true; }
  void countResolved(size_t resolved, size_t reused) {
    counts_.resolved += resolved;
    counts_.resolveReused += reused;
  }

 private:
  struct Entry {
    std::optional<FileStamp> stamp;
    SharedText text;
    std::optional<ParsedProfile> parsed;      // of `text`
    std::optional<ResolvedProfile> resolved;  // of `parsed`
    // The last load it was part of (found, stored or kept): written by
    // lookups too, each of its own entry, so that a hit costs one lookup.
    mutable uint64_t usedIn = 0;
  };
  std::chrono::nanoseconds racyWindow_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // by path
  uint64_t load_ = 1;                               // the load going on (forget_unused.h)
  struct Listing {
    std::string dir;
    FileStamp stamp;
    DirectoryEntries entries;
  };
  std::optional<Listing> listing_;  // of the profiles directory
  ClaimIndex claims_;
  Counts counts_, last_;
  std::unordered_map<std::string_view, DeviceList::Ptr> sameAs_;  // by name, viewing the device
};

}  // namespace ringfence::policy
