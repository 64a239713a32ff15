#include "policy/loader.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "policy/limits.h"
#include "policy/parallel.h"
#include "policy/profile_parser.h"
#include "policy/source_cache.h"
#include "policy/source_text.h"
#include "policy/sources.h"

namespace ringfence::policy {
namespace {

// "FILE:LINE:COLUMN", how a conflict names the other claim.
std::string place(const SourceLocation& where) {
  return where.file.str() + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

class Resolver {
 public:
  Resolver(Policy& policy, Diagnostics& diags, const ProfileFacts& facts, SourceCache* cache)
      : policy_(policy), diags_(diags), facts_(facts), cache_(cache) {
    for (const auto& [name, group] : policy_.groups) via_.emplace(name, SharedText("@" + name));
  }

  // The compiled size of each device (limits.h), in the final device order.
  std::vector<size_t> run() {
    DeviceList& devices = policy_.devices;
    size_t n = devices.size();
    // Each device's rules on their own, on every core; their diagnostics
    // then go in device order, after the device's claims, as in one pass. A
    // device resolved before from the same parsed device, against the same
    // members of the groups it names, is taken as it was.
    std::vector<Diagnostics> ruleDiags(n);
    std::vector<size_t> sizes(n);
    std::vector<DeviceList::Ptr> parsed;
    if (cache_) parsed = devices.shared();
    std::vector<char> fresh(n, 0);
    constexpr size_t kDevicesPerThread = 256;
    parallelFor(n, kDevicesPerThread, 8, [&](size_t i) {
      const ResolvedProfile* known =
          cache_ && i < facts_.resolvedBefore.size() ? facts_.resolvedBefore[i] : nullptr;
      if (known && SourceCache::stillResolves(*known, parsed[i], policy_.groups)) {
        devices.set(i, known->device);
        ruleDiags[i] = known->diags;
        sizes[i] = known->elements;
        return;
      }
      bool own = i < facts_.parsedNow.size() && facts_.parsedNow[i];
      Device& d = own ? devices.editOwn(i) : devices.edit(i);
      for (auto* rules : {&d.outbound, &d.inbound, &d.maintenance}) {
        // Resolved afresh: the cache keeps a parse as its last resolution.
        for (Rule& r : *rules) r.resolved.clear();
        for (Rule& r : *rules) resolveRule(d, refused(i), r, ruleDiags[i]);
      }
      sizes[i] = compiledSize(d);
      fresh[i] = 1;
      if (cache_) {
        if (DeviceList::Ptr same = cache_->equalShared(d)) devices.set(i, std::move(same));
      }
    });
    if (cache_) {
      size_t resolved = 0;
      for (size_t i = 0; i < n && i < facts_.paths.size(); ++i) {
        if (!fresh[i] || !facts_.paths[i]) continue;
        ++resolved;
        cache_->storeResolved(*facts_.paths[i], {parsed[i], devices.shared(i), ruleDiags[i],
                                                 sizes[i], groupsNamed(devices[i])});
      }
      cache_->countResolved(resolved, n - resolved);
    }
    // Profiles are read in path order, which is mostly name order already.
    std::vector<size_t> order = nameOrder();
    // No name, address or MAC claimed twice (the cache's index of the
    // claims says so, looking only at what changed): nothing to report.
    bool unclaimedTwice = false;
    if (cache_) {
      if (order.empty()) {
        unclaimedTwice = cache_->claims().update(devices);
      } else {
        DeviceList byName;
        byName.reserve(n);
        for (size_t i : order) byName.push_back(devices.shared(i));
        unclaimedTwice = cache_->claims().update(byName);
      }
    }
    checkClaims(ruleDiags, !unclaimedTwice);
    if (!order.empty()) {
      std::vector<DeviceList::Ptr>& items = devices.items();
      std::vector<DeviceList::Ptr> sorted(n);
      std::vector<size_t> sortedSizes(n);
      for (size_t i = 0; i < n; ++i) {
        sorted[i] = std::move(items[order[i]]);
        sortedSizes[i] = sizes[order[i]];
      }
      items = std::move(sorted);
      sizes = std::move(sortedSizes);
    }
    return sizes;
  }

 private:
  // The devices' load positions in name order; empty when that is load order.
  std::vector<size_t> nameOrder() const {
    const std::vector<DeviceList::Ptr>& items = policy_.devices.shared();
    auto byName = [](const DeviceList::Ptr& a, const DeviceList::Ptr& b) {
      return a->name < b->name;
    };
    if (std::is_sorted(items.begin(), items.end(), byName)) return {};
    std::vector<size_t> order(items.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return byName(items[a], items[b]); });
    return order;
  }

  // Device by device in load order: the conflicts of its claims (with
  // `claims`), its interface, then its rules' diagnostics.
  void checkClaims(std::vector<Diagnostics>& ruleDiags, bool claims) {
    const DeviceList& devices = policy_.devices;
    size_t n = devices.size();
    std::unordered_map<std::string_view, Claim> names;
    std::unordered_map<IpAddress, Claim, AddressHash> addresses;
    std::unordered_map<MacAddress, Claim, AddressHash> macs;
    if (claims) {
      names.reserve(n);
      addresses.reserve(n * 2);
    }
    for (size_t i = 0; i < n; ++i) {
      const Device& d = devices[i];
      if (claims) {
        claim(names, std::string_view(d.name), {i, &d.where}, [&](const Claim& other) {
          return "device '" + d.name + "' is already defined in " + place(*other.where);
        });
        for (size_t a = 0; a < d.addresses.size(); ++a) {
          claim(addresses, d.addresses[a], {i, &d.addressWhere[a]}, [&](const Claim& other) {
            return "address " + toString(d.addresses[a]) + " is already claimed by " + by(other);
          });
        }
        if (d.mac) {
          claim(macs, *d.mac, {i, &d.macWhere}, [&](const Claim& other) {
            return "MAC " + toString(*d.mac) + " is already claimed by " + by(other);
          });
        }
      }
      checkInterface(d);
      diags_.append(ruleDiags[i]);
    }
  }

  bool refused(size_t i) const { return i < facts_.refused.size() && facts_.refused[i]; }

  // Each group `d` names, with its members now (one list per group for every
  // device of this load that names it; none if undefined).
  std::vector<ResolvedProfile::GroupMembers> groupsNamed(const Device& d) {
    std::vector<ResolvedProfile::GroupMembers> out;
    for (const auto* rules : {&d.outbound, &d.inbound, &d.maintenance}) {
      for (const Rule& r : *rules) {
        for (const PeerSpec& p : r.peers) {
          if (p.kind != PeerSpec::Kind::Group) continue;
          if (std::any_of(out.begin(), out.end(),
                          [&](const auto& g) { return g.first == p.group; }))
            continue;
          auto g = policy_.groups.find(p.group);
          if (g == policy_.groups.end()) {
            out.emplace_back(p.group, nullptr);
            continue;
          }
          auto& members = membersNow_[g->first];
          if (!members) members = std::make_shared<const std::vector<IpPrefix>>(g->second.members);
          out.emplace_back(p.group, members);
        }
      }
    }
    return out;
  }
  std::map<std::string_view, ResolvedProfile::Members> membersNow_;  // by groupsNamed()

  void checkInterface(const Device& d) {
    const auto& ifs = policy_.config.deviceInterfaces;
    if (d.interface.empty() || ifs.empty()) return;
    if (std::find(ifs.begin(), ifs.end(), d.interface) == ifs.end()) {
      diags_.warning(d.where, "device '" + d.name + "' is bound to interface '" + d.interface +
                                  "', which is not among device_interfaces");
    }
  }

  // A peer family is usable when the device has an address of that family and
  // the protocol can carry it.
  static bool usable(const Device& d, const Rule& r, Family f) {
    if (r.proto == Proto::Icmp && f != Family::V4) return false;
    if (r.proto == Proto::Icmpv6 && f != Family::V6) return false;
    return d.hasFamily(f);
  }

  static void add(Rule& r, const IpPrefix& p, const SharedText& via) {
    for (const ResolvedPeer& existing : r.resolved) {
      if (existing.prefix == p) return;
    }
    r.resolved.push_back({p, via});
  }

  // A warning that follows from the device's addresses: none when its file
  // has errors (`refused`), whose refused addresses would make every rule look dead.
  static void neverMatches(bool refused, const SourceLocation& where, std::string message,
                           Diagnostics& diags) {
    if (!refused) diags.warning(where, std::move(message));
  }

  // Safe on several threads at once, each with its own device and `diags`.
  void resolveRule(const Device& d, bool refused, Rule& r, Diagnostics& diags) const {
    r.resolved.reserve(r.peers.size());  // a group may add more
    for (const PeerSpec& peer : r.peers) {
      switch (peer.kind) {
        case PeerSpec::Kind::Prefix:
          if (usable(d, r, peer.prefix.address.family)) {
            add(r, peer.prefix, SharedText());
          } else {
            neverMatches(refused, peer.where,
                         "peer " + toString(peer.prefix) + " can never match: device '" + d.name +
                             "' has no " + familyName(peer.prefix.address.family) + " address",
                         diags);
          }
          break;
        case PeerSpec::Kind::Any: {
          bool any = false;
          for (Family f : {Family::V4, Family::V6}) {
            if (!usable(d, r, f)) continue;
            IpPrefix all;
            all.address.family = f;
            add(r, all, any_);
            any = true;
          }
          if (!any)
            neverMatches(refused, peer.where, "'any' can never match for this device and protocol",
                         diags);
          break;
        }
        case PeerSpec::Kind::Group: {
          auto g = policy_.groups.find(peer.group);
          if (g == policy_.groups.end()) {
            diags.error(peer.where, "undefined group '@" + peer.group.str() + "'");
            break;
          }
          size_t before = r.resolved.size();
          auto known = via_.find(peer.group);
          const SharedText via =
              known != via_.end() ? known->second : SharedText("@" + peer.group.str());
          for (const IpPrefix& member : g->second.members) {
            if (usable(d, r, member.address.family)) add(r, member, via);
          }
          if (r.resolved.size() == before && !g->second.members.empty()) {
            neverMatches(refused, peer.where,
                         "group '@" + peer.group.str() +
                             "' has no member that can match this device and protocol",
                         diags);
          }
          break;
        }
      }
    }
  }

  static const char* familyName(Family f) { return f == Family::V4 ? "IPv4" : "IPv6"; }

  struct Claim {
    size_t device;  // its index in load order
    const SourceLocation* where;
  };

  int64_t modified(size_t device) const {
    return device < facts_.modifiedNs.size() ? facts_.modifiedNs[device] : 0;
  }

  // The first claim of `key` stays its owner; a later one is in conflict
  // with it, and the error goes to whichever of the two was modified last
  // (the later claim on a tie), naming the other.
  template <typename Owners, typename Key, typename Describe>
  void claim(Owners& owners, const Key& key, const Claim& c, Describe conflict) {
    auto [it, fresh] = owners.try_emplace(key, c);
    if (fresh) return;
    const Claim& first = it->second;
    bool blameFirst = modified(first.device) > modified(c.device);
    diags_.error(blameFirst ? *first.where : *c.where, conflict(blameFirst ? c : first));
  }

  std::string by(const Claim& other) const {
    return "device '" + policy_.devices[other.device].name + "' (" + place(*other.where) + ")";
  }

  Policy& policy_;
  Diagnostics& diags_;
  const ProfileFacts& facts_;
  SourceCache* cache_;
  // The `via` of every resolved peer: one text for each group and one for
  // `any`, shared by all the peers they give (read only on the threads).
  std::map<std::string, SharedText> via_;
  const SharedText any_{"any"};
};

// Profiles are independent until the cross-file checks, and yaml-cpp is the
// bulk of loading a large policy: parse them on every core. A text the cache
// parsed before is not parsed again.
// What the cache resolved each parsed one to before goes to `resolved`; a
// parse the cache had goes to `reused`. In a start check, a parse equal to
// the device started from (SourceCache::sameParse) is that device at once
// (`shared`), so that the parses of every profile are never held beside it.
std::vector<ParsedProfile> parseProfiles(const std::vector<SourceFile>& files, SourceCache* cache,
                                         std::vector<const ResolvedProfile*>& resolved,
                                         std::vector<char>& reused, std::vector<char>& shared) {
  std::vector<ParsedProfile> out(files.size());
  reused.assign(files.size(), 0);
  shared.assign(files.size(), 0);
  resolved.assign(files.size(), nullptr);
  constexpr size_t kFilesPerThread = 64;
  parallelFor(files.size(), kFilesPerThread, 8, [&](size_t i) {
    if (const ParsedProfile* known =
            cache ? cache->parsed(files[i].path, files[i].text, &resolved[i]) : nullptr) {
      out[i] = *known;
      reused[i] = 1;
      return;
    }
    if (auto root = parseSourceFile(files[i], out[i].diags)) {
      if (auto d = parseProfile(*root, files[i].path, out[i].diags)) {
        if (DeviceList::Ptr same = cache ? cache->sameParse(*d) : nullptr) {
          out[i].device = std::move(same);
          shared[i] = 1;
        } else {
          out[i].device = DeviceList::make(std::move(*d));
        }
      }
    }
  });
  if (cache) {
    size_t hits = 0;
    for (size_t i = 0; i < files.size(); ++i) {
      if (reused[i]) {
        ++hits;  // the cache keeps it: parsed() found it
      } else {
        cache->storeParsed(files[i].path, files[i].text, out[i]);
      }
    }
    cache->countParsed(files.size() - hits, hits);
  }
  return out;
}

}  // namespace

std::vector<size_t> resolvePolicy(Policy& policy, Diagnostics& diags, const ProfileFacts& facts,
                                  SourceCache* cache) {
  return Resolver(policy, diags, facts, cache).run();
}

LoadResult loadPolicy(const PolicySources& sources, const LoadOptions& options,
                      SourceCache* cache) {
  LoadResult result;
  Diagnostics& diags = result.diagnostics;
  Policy& policy = result.policy;

  if (sources.config) {
    if (auto root = parseSourceFile(*sources.config, diags)) {
      policy.config = parseConfig(*root, sources.config->path, diags);
    }
  }
  DaemonConfig& config = policy.config;
  if (options.profilesDir) config.profilesDir = *options.profilesDir;
  if (options.groupsFile) config.groupsFile = *options.groupsFile;
  if (options.stateDir) config.stateDir = *options.stateDir;
  if (options.table) {
    if (isValidTableName(*options.table)) {
      config.table = *options.table;
    } else {
      diags.error({"--table", 1, 1}, "invalid table name '" + *options.table + "'");
    }
  }

  if (sources.groups) {
    if (auto root = parseSourceFile(*sources.groups, diags)) {
      policy.groups = parseGroups(*root, sources.groups->path, diags);
    }
  }

  std::vector<const ResolvedProfile*> resolvedBefore;
  std::vector<char> reused, shared;
  std::vector<ParsedProfile> parsed =
      parseProfiles(sources.profiles, cache, resolvedBefore, reused, shared);
  ProfileFacts facts;
  policy.devices.reserve(parsed.size());
  for (size_t i = 0; i < parsed.size(); ++i) {  // in file order, whatever thread parsed it
    const SourceFile& f = sources.profiles[i];
    diags.append(parsed[i].diags);
    if (!parsed[i].device) continue;
    facts.modifiedNs.push_back(f.modifiedNs);
    facts.refused.push_back(parsed[i].diags.hasErrors() ? 1 : 0);
    facts.paths.push_back(&f.path.str());
    facts.resolvedBefore.push_back(resolvedBefore[i]);
    // Resolved in place only if this load made it (a shared one is copied first).
    facts.parsedNow.push_back(reused[i] || shared[i] ? 0 : 1);
    policy.devices.push_back(std::move(parsed[i].device));
  }
  std::vector<size_t> sizes = resolvePolicy(policy, diags, facts, cache);
  checkPlanLimits(policy, sizes, diags);
  return result;
}

LoadResult loadPolicy(const LoadOptions& options) {
  Diagnostics readDiags;
  PolicySources sources = readPolicySources(options, readDiags);
  LoadResult result = loadPolicy(sources, options);
  readDiags.append(result.diagnostics);
  result.diagnostics = std::move(readDiags);
  return result;
}

}  // namespace ringfence::policy
