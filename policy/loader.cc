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
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

class Resolver {
 public:
  Resolver(Policy& policy, Diagnostics& diags, const ProfileFacts& facts)
      : policy_(policy), diags_(diags), facts_(facts) {}

  void run() {
    // Each device's rules on their own, on every core; their diagnostics
    // then go in device order, after the device's claims, as in one pass.
    std::vector<Diagnostics> ruleDiags(policy_.devices.size());
    constexpr size_t kDevicesPerThread = 256;
    parallelFor(policy_.devices.size(), kDevicesPerThread, 8, [&](size_t i) {
      Device& d = policy_.devices[i];
      for (auto* rules : {&d.outbound, &d.inbound, &d.maintenance}) {
        for (Rule& r : *rules) resolveRule(d, r, ruleDiags[i]);
      }
    });
    std::unordered_map<std::string, Claim> names;
    std::unordered_map<IpAddress, Claim, AddressHash> addresses;
    std::unordered_map<MacAddress, Claim, AddressHash> macs;
    names.reserve(policy_.devices.size());
    addresses.reserve(policy_.devices.size() * 2);
    for (size_t i = 0; i < policy_.devices.size(); ++i) {
      Device& d = policy_.devices[i];
      claim(names, d.name, {&d, d.where}, [&](const Claim& other) {
        return "device '" + d.name + "' is already defined in " + place(other.where);
      });
      for (size_t i = 0; i < d.addresses.size(); ++i) {
        claim(addresses, d.addresses[i], {&d, d.addressWhere[i]}, [&](const Claim& other) {
          return "address " + toString(d.addresses[i]) + " is already claimed by " + by(other);
        });
      }
      if (d.mac) {
        claim(macs, *d.mac, {&d, d.macWhere}, [&](const Claim& other) {
          return "MAC " + toString(*d.mac) + " is already claimed by " + by(other);
        });
      }
      checkInterface(d);
      diags_.append(ruleDiags[i]);
    }
    auto byName = [](const Device& a, const Device& b) { return a.name < b.name; };
    // Profiles are read in path order, which is mostly name order already.
    if (!std::is_sorted(policy_.devices.begin(), policy_.devices.end(), byName))
      std::stable_sort(policy_.devices.begin(), policy_.devices.end(), byName);
  }

 private:
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

  static void add(Rule& r, const IpPrefix& p, const std::string& via) {
    for (const ResolvedPeer& existing : r.resolved) {
      if (existing.prefix == p) return;
    }
    r.resolved.push_back({p, via});
  }

  // A warning that follows from the device's addresses: none when its file
  // has errors, whose refused addresses would make every rule look dead.
  void neverMatches(const Device& d, const SourceLocation& where, std::string message,
                    Diagnostics& diags) const {
    if (!facts_.refused.contains(d.where.file)) diags.warning(where, std::move(message));
  }

  // Safe on several threads at once, each with its own device and `diags`.
  void resolveRule(const Device& d, Rule& r, Diagnostics& diags) const {
    for (const PeerSpec& peer : r.peers) {
      switch (peer.kind) {
        case PeerSpec::Kind::Prefix:
          if (usable(d, r, peer.prefix.address.family)) {
            add(r, peer.prefix, "");
          } else {
            neverMatches(d, peer.where,
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
            add(r, all, "any");
            any = true;
          }
          if (!any)
            neverMatches(d, peer.where, "'any' can never match for this device and protocol",
                         diags);
          break;
        }
        case PeerSpec::Kind::Group: {
          auto g = policy_.groups.find(peer.group);
          if (g == policy_.groups.end()) {
            diags.error(peer.where, "undefined group '@" + peer.group + "'");
            break;
          }
          size_t before = r.resolved.size();
          std::string via = "@" + peer.group;
          for (const IpPrefix& member : g->second.members) {
            if (usable(d, r, member.address.family)) add(r, member, via);
          }
          if (r.resolved.size() == before && !g->second.members.empty()) {
            neverMatches(
                d, peer.where,
                "group '@" + peer.group + "' has no member that can match this device and protocol",
                diags);
          }
          break;
        }
      }
    }
  }

  static const char* familyName(Family f) { return f == Family::V4 ? "IPv4" : "IPv6"; }

  struct Claim {
    const Device* device;
    SourceLocation where;
  };

  int64_t modified(const SourceLocation& where) const {
    auto it = facts_.modifiedNs.find(where.file);
    return it == facts_.modifiedNs.end() ? 0 : it->second;
  }

  // The first claim of `key` stays its owner; a later one is in conflict
  // with it, and the error goes to whichever of the two was modified last
  // (the later claim on a tie), naming the other.
  template <typename Owners, typename Key, typename Describe>
  void claim(Owners& owners, const Key& key, const Claim& c, Describe conflict) {
    auto [it, fresh] = owners.try_emplace(key, c);
    if (fresh) return;
    const Claim& first = it->second;
    bool blameFirst = modified(first.where) > modified(c.where);
    diags_.error(blameFirst ? first.where : c.where, conflict(blameFirst ? c : first));
  }

  static std::string by(const Claim& other) {
    return "device '" + other.device->name + "' (" + place(other.where) + ")";
  }

  Policy& policy_;
  Diagnostics& diags_;
  const ProfileFacts& facts_;
};

// Profiles are independent until the cross-file checks, and yaml-cpp is the
// bulk of loading a large policy: parse them on every core. A text the cache
// parsed before is not parsed again.
std::vector<ParsedProfile> parseProfiles(const std::vector<SourceFile>& files, SourceCache* cache) {
  std::vector<ParsedProfile> out(files.size());
  std::vector<char> reused(files.size(), 0);
  constexpr size_t kFilesPerThread = 64;
  parallelFor(files.size(), kFilesPerThread, 8, [&](size_t i) {
    if (const ParsedProfile* known =
            cache ? cache->parsed(files[i].path, files[i].text) : nullptr) {
      out[i] = *known;
      reused[i] = 1;
      return;
    }
    if (auto root = parseSourceFile(files[i], out[i].diags)) {
      out[i].device = parseProfile(*root, files[i].path, out[i].diags);
    }
  });
  if (cache) {
    size_t hits = 0;
    for (size_t i = 0; i < files.size(); ++i) {
      if (reused[i]) {
        ++hits;
        cache->keep(files[i].path);
      } else {
        cache->storeParsed(files[i].path, files[i].text, out[i]);
      }
    }
    cache->countParsed(files.size() - hits, hits);
  }
  return out;
}

}  // namespace

void resolvePolicy(Policy& policy, Diagnostics& diags, const ProfileFacts& facts) {
  Resolver(policy, diags, facts).run();
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

  std::vector<ParsedProfile> parsed = parseProfiles(sources.profiles, cache);
  ProfileFacts facts;
  for (size_t i = 0; i < parsed.size(); ++i) {  // in file order, whatever thread parsed it
    const SourceFile& f = sources.profiles[i];
    facts.modifiedNs[f.path] = f.modifiedNs;
    if (parsed[i].diags.hasErrors()) facts.refused.insert(f.path);
    diags.append(parsed[i].diags);
    if (parsed[i].device) policy.devices.push_back(std::move(*parsed[i].device));
  }
  resolvePolicy(policy, diags, facts);
  checkPlanLimits(policy, diags);
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
