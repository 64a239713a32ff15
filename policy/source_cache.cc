#include "policy/source_cache.h"

#include <algorithm>

#include "policy/forget_unused.h"

namespace ringfence::policy {

const SharedText* SourceCache::text(const std::string& path, const FileStamp& now,
                                    int64_t nowNs) const {
  auto it = entries_.find(path);
  if (it == entries_.end() || !it->second.stamp || *it->second.stamp != now) return nullptr;
  if (racy(now, nowNs)) return nullptr;
  it->second.usedIn = load_;
  return &it->second.text;
}

const DirectoryEntries* SourceCache::listing(const std::string& dir, const FileStamp& now,
                                             int64_t nowNs) const {
  if (!listing_ || listing_->dir != dir || listing_->stamp != now ||
      racy(now, nowNs, std::max<std::chrono::nanoseconds>(racyWindow_, kMinListingWindow)))
    return nullptr;
  return &listing_->entries;
}

const DirectoryEntries* SourceCache::storeListing(const std::string& dir, const FileStamp& stamp,
                                                  DirectoryEntries&& entries, int64_t nowNs) {
  if (racy(stamp, nowNs, std::max<std::chrono::nanoseconds>(racyWindow_, kMinListingWindow))) {
    listing_.reset();
    return nullptr;
  }
  listing_ = Listing{dir, stamp, std::move(entries)};
  return &listing_->entries;
}

const ParsedProfile* SourceCache::parsed(const std::string& path, const SharedText& text,
                                         const ResolvedProfile** resolved) const {
  auto it = entries_.find(path);
  if (it == entries_.end() || !it->second.parsed || it->second.text != text) return nullptr;
  it->second.usedIn = load_;
  if (resolved) *resolved = it->second.resolved ? &*it->second.resolved : nullptr;
  return &*it->second.parsed;
}

bool SourceCache::stillResolves(const ResolvedProfile& r, const DeviceList::Ptr& parsed,
                                const std::map<std::string, Group>& groups) {
  if (r.parsed != parsed) return false;
  for (const auto& [name, members] : r.groups) {
    auto g = groups.find(name);
    if (g == groups.end() ? members != nullptr : !members || *members != g->second.members)
      return false;
  }
  return true;
}

void SourceCache::shareEqual(const DeviceList& devices) {
  sameAs_.clear();
  sameAs_.reserve(devices.size());
  for (size_t i = 0; i < devices.size(); ++i) sameAs_.emplace(devices[i].name, devices.shared(i));
}

DeviceList::Ptr SourceCache::equalShared(const Device& d) const {
  auto it = sameAs_.find(d.name);
  if (it == sameAs_.end() || !(*it->second == d)) return nullptr;
  return it->second;
}

DeviceList::Ptr SourceCache::sameParse(Device& parsed) const {
  auto it = sameAs_.find(parsed.name);
  if (it == sameAs_.end()) return nullptr;
  const Device& known = *it->second;
  using Rules = std::vector<Rule> Device::*;
  constexpr Rules kLists[] = {&Device::outbound, &Device::inbound, &Device::maintenance};
  for (Rules list : kLists) {
    if ((parsed.*list).size() != (known.*list).size()) return nullptr;
  }
  for (Rules list : kLists) {
    for (size_t i = 0; i < (parsed.*list).size(); ++i)
      (parsed.*list)[i].resolved = (known.*list)[i].resolved;
  }
  bool same = known == parsed;
  for (Rules list : kLists) {
    for (Rule& r : parsed.*list) r.resolved = {};
  }
  return same ? it->second : nullptr;
}

void SourceCache::storeResolved(const std::string& path, ResolvedProfile resolved) {
  Entry& e = entries_[path];
  // The parse of the text is kept as its resolution (a resolution only fills
  // in Rule::resolved, which a parse leaves empty): one device, not two.
  if (e.parsed && e.parsed->device == resolved.parsed) {
    e.parsed->device = resolved.device;
    resolved.parsed = resolved.device;
  }
  e.resolved = std::move(resolved);
  e.usedIn = load_;
}

void SourceCache::storeText(const std::string& path, const std::optional<FileStamp>& stamp,
                            SharedText text) {
  Entry& e = entries_[path];
  if (e.text != text) {
    e.text = std::move(text);
    e.parsed.reset();
    e.resolved.reset();
  }
  e.stamp = stamp;
  e.usedIn = load_;
}

void SourceCache::storeParsed(const std::string& path, const SharedText& text,
                              ParsedProfile parsed) {
  Entry& e = entries_[path];
  if (e.text != text) {
    e.text = text;
    e.stamp.reset();  // not read from the file under this path: never reused unread
  }
  e.parsed = std::move(parsed);
  e.resolved.reset();
  e.usedIn = load_;
}

void SourceCache::keep(const std::string& path) {
  if (auto it = entries_.find(path); it != entries_.end()) it->second.usedIn = load_;
}

void SourceCache::endLoad(std::optional<size_t> kept) {
  if (!kept || *kept != entries_.size()) forgetUnused(entries_, load_);
  ++load_;
  last_ = counts_;
  counts_ = {};
  sameAs_.clear();
}

}  // namespace ringfence::policy
