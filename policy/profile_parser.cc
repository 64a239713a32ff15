#include "policy/profile_parser.h"

#include <algorithm>
#include <array>

#include "policy/schema.h"
#include "policy/text_check.h"

namespace ringfence::policy {
namespace {

constexpr size_t kMaxAddresses = 16;
constexpr uint64_t kMaxThreshold = 1000000;
constexpr uint64_t kMaxRate = 1000000;
constexpr uint64_t kMaxConnections = 1000000;

// Addresses a device can never have: they are not a single host.
std::string unusableHostReason(const IpAddress& a) {
  const auto& b = a.bytes;
  if (a.family == Family::V4) {
    if (b[0] == 0) return "in 0.0.0.0/8 (this network)";
    if (b[0] == 127) return "a loopback address";
    if (b[0] >= 224 && b[0] <= 239) return "a multicast address";
    if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return "the broadcast address";
    return {};
  }
  if (std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; })) {
    return "the unspecified address";
  }
  if (std::all_of(b.begin(), b.begin() + 15, [](uint8_t x) { return x == 0; }) && b[15] == 1) {
    return "the loopback address";
  }
  if (b[0] == 0xff) return "a multicast address";
  return {};
}

class ProfileParser {
 public:
  ProfileParser(const SharedText& file, Diagnostics& diags) : r_(file, diags) {}

  std::optional<Device> parse(const YamlNode& root) {
    if (root.kind == YamlNode::Kind::Null) {
      r_.error(root, "empty profile: a profile needs at least 'device' and 'identity'");
      return std::nullopt;
    }
    if (!r_.isMap(root, "a profile")) return std::nullopt;
    MapFields f(r_, root,
                {"device", "description", "inventory", "identity", "mode", "allow", "violations",
                 "limits", "maintenance"},
                "profile");
    Device d;
    d.file = r_.fileText();
    bool named = false;
    if (const YamlNode* n = f.require("device")) {
      d.where = r_.at(*n);
      if (auto name = r_.text(*n, "device")) {
        if (isValidName(*name)) {
          d.name = *name;
          named = true;
        } else {
          r_.error(*n, "invalid device name '" + *name +
                           "': use 1 to 63 of a-z, 0-9, '_', '.', '-', starting with a letter "
                           "or digit");
        }
      }
    }
    if (const YamlNode* n = f.get("description")) {
      if (auto t = freeText(*n, "description")) d.description = *t;
    }
    if (const YamlNode* n = f.get("inventory")) parseInventory(*n, d);
    if (const YamlNode* n = f.require("identity")) parseIdentity(*n, d);
    if (const YamlNode* n = f.get("mode")) parseMode(*n, d);
    if (const YamlNode* n = f.get("allow")) parseAllow(*n, d);
    if (const YamlNode* n = f.get("violations")) parseViolations(*n, d.violations);
    if (const YamlNode* n = f.get("limits")) parseLimits(*n, d);
    if (const YamlNode* n = f.get("maintenance")) {
      if (auto items = r_.list(*n, "maintenance")) {
        for (const YamlNode* item : *items) {
          if (auto rule = parseRule(*item, Direction::Outbound, true)) {
            d.maintenance.push_back(std::move(*rule));
          }
        }
      }
    }
    if (!named) return std::nullopt;
    return d;
  }

 private:
  void parseInventory(const YamlNode& n, Device& d) {
    if (n.kind == YamlNode::Kind::Null) return;
    if (!r_.isMap(n, "inventory")) return;
    for (const auto& [key, value] : n.entries) {
      if (!freeText(key, "an inventory key")) continue;
      if (auto v = freeText(value, "inventory value '" + key.scalar + "'")) {
        d.inventory.emplace_back(key.scalar, *v);
      }
    }
  }

  // Free text ends up in logs, on the bus and on terminals: a control
  // character there could forge a log line or rewrite a screen.
  std::optional<std::string> freeText(const YamlNode& n, std::string_view what) {
    auto t = r_.text(n, what);
    if (!t) return std::nullopt;
    if (!isValidUtf8(*t)) {  // the file is UTF-8, but an escape such as "\uD800" is not
      r_.error(n, std::string(what) + " holds an escape sequence that is not valid UTF-8");
      return std::nullopt;
    }
    if (auto c = firstControlCharacter(*t)) {
      r_.error(n, "control character " + codePointName(c->codePoint) + " in " + std::string(what) +
                      ": free text may hold tabs and line breaks, no other control characters");
      return std::nullopt;
    }
    return t;
  }

  void parseIdentity(const YamlNode& n, Device& d) {
    if (!r_.isMap(n, "identity")) return;
    MapFields f(r_, n, {"addresses", "mac", "interface"}, "identity");
    if (const YamlNode* a = f.require("addresses")) parseAddresses(*a, d);
    if (const YamlNode* m = f.get("mac")) {
      if (auto t = r_.text(*m, "mac")) {
        auto mac = parseMac(*t);
        if (!mac) {
          r_.error(*m,
                   "invalid MAC '" + *t + "' (expected six hex pairs such as 02:00:00:00:00:10)");
        } else if (mac->bytes[0] & 1) {
          r_.error(*m,
                   "MAC '" + *t + "' is a multicast address; a device sends from a unicast MAC");
        } else if (std::all_of(mac->bytes.begin(), mac->bytes.end(),
                               [](uint8_t b) { return b == 0; })) {
          r_.error(*m, "MAC '" + *t + "' is all zeros");
        } else {
          d.mac = mac;
          d.macWhere = r_.at(*m);
        }
      }
    }
    if (const YamlNode* i = f.get("interface")) {
      if (auto t = r_.text(*i, "interface")) {
        if (isValidInterfaceName(*t)) {
          d.interface = *t;
        } else {
          r_.error(*i, interfaceNameError(*t));
        }
      }
    }
  }

  void parseAddresses(const YamlNode& n, Device& d) {
    if (n.kind != YamlNode::Kind::Sequence) {
      r_.error(n, std::string("addresses must be a list of host addresses, not ") +
                      describeKind(n.kind));
      return;
    }
    if (n.items.empty() || n.items.size() > kMaxAddresses) {
      r_.error(n, "a device has 1 to " + std::to_string(kMaxAddresses) + " addresses, not " +
                      std::to_string(n.items.size()));
    }
    for (const YamlNode& item : n.items) {
      auto t = r_.text(item, "an address");
      if (!t) continue;
      if (t->find('/') != std::string::npos) {
        r_.error(item,
                 "device address '" + *t + "' must be a host address, without a prefix length");
        continue;
      }
      auto a = parseIpAddress(*t);
      if (!a) {
        r_.error(item, "invalid address '" + *t + "'");
        continue;
      }
      if (std::string why = unusableHostReason(*a); !why.empty()) {
        r_.error(item, "device address '" + *t + "' is " + why);
        continue;
      }
      auto dup = std::find(d.addresses.begin(), d.addresses.end(), *a);
      if (dup != d.addresses.end()) {
        r_.error(item, "address '" + *t + "' is listed twice");
        continue;
      }
      d.addresses.push_back(*a);
      d.addressWhere.push_back(r_.at(item));
    }
  }

  void parseMode(const YamlNode& n, Device& d) {
    auto t = r_.text(n, "mode");
    if (!t) return;
    for (Mode m : {Mode::Enforce, Mode::Monitor, Mode::Learn}) {
      if (*t == toString(m)) {
        d.mode = m;
        return;
      }
    }
    r_.error(n, "invalid mode '" + *t + "' (enforce, monitor or learn)");
  }

  void parseAllow(const YamlNode& n, Device& d) {
    if (n.kind == YamlNode::Kind::Null) return;
    if (!r_.isMap(n, "allow")) return;
    MapFields f(r_, n, {"outbound", "inbound"}, "allow");
    auto rules = [&](const char* key, Direction dir, std::vector<Rule>& out) {
      const YamlNode* list = f.get(key);
      if (!list) return;
      auto items = r_.list(*list, std::string("allow.") + key);
      if (!items) return;
      out.reserve(out.size() + items->size());
      for (const YamlNode* item : *items) {
        if (auto rule = parseRule(*item, dir, false)) out.push_back(std::move(*rule));
      }
    };
    rules("outbound", Direction::Outbound, d.outbound);
    rules("inbound", Direction::Inbound, d.inbound);
  }

  std::optional<Rule> parseRule(const YamlNode& n, Direction dir, bool maintenance) {
    const char* peerKey = dir == Direction::Outbound ? "to" : "from";
    if (!r_.isMap(n, "a rule")) return std::nullopt;
    MapFields f(r_, n, {peerKey, "proto", "ports", "comment", "critical"},
                maintenance ? "maintenance rule"
                            : (dir == Direction::Outbound ? "outbound rule" : "inbound rule"));
    Rule rule;
    rule.direction = dir;
    rule.where = r_.at(n);
    bool ok = true;
    if (const YamlNode* p = f.require(peerKey)) {
      std::vector<const YamlNode*> peers = r_.oneOrMany(*p, peerKey);
      rule.peers.reserve(peers.size());
      for (const YamlNode* v : peers) ok &= parsePeer(*v, rule);
      ok &= !rule.peers.empty();
    } else {
      ok = false;
    }
    const YamlNode* protoNode = f.require("proto");
    bool haveProto = false;
    if (protoNode) {
      if (auto t = r_.text(*protoNode, "proto")) {
        if (auto p = parseProto(*t)) {
          rule.proto = *p;
          haveProto = true;
        } else {
          r_.error(*protoNode, "invalid protocol '" + *t + "' (tcp, udp, icmp or icmpv6)");
        }
      }
    }
    ok &= haveProto;
    const YamlNode* portsNode = f.get("ports");
    if (haveProto) {
      bool icmp = rule.proto == Proto::Icmp || rule.proto == Proto::Icmpv6;
      if (icmp && portsNode) {
        r_.error(*f.keyNode("ports"),
                 std::string("ports are not allowed with ") + toString(rule.proto));
        ok = false;
      } else if (!icmp && !portsNode) {
        r_.error(n,
                 std::string("missing required key 'ports' in ") + toString(rule.proto) + " rule");
        ok = false;
      } else if (portsNode) {
        ok &= parsePorts(*portsNode, rule);
      }
      if (icmp) ok &= checkIcmpPeers(rule);
    }
    if (const YamlNode* c = f.get("comment")) {
      if (auto t = freeText(*c, "comment")) rule.comment = recentText<Comments>(*t);
    }
    if (const YamlNode* c = f.get("critical")) {
      if (auto b = r_.boolean(*c, "critical")) {
        rule.critical = *b;
        if (maintenance && *b) {
          r_.warning(*c, "critical has no effect on a maintenance rule: isolation closes it");
          rule.critical = false;
        }
      }
    }
    if (!ok) return std::nullopt;
    return rule;
  }

  // One text for the same bytes parsed again soon after on this thread, one
  // set of recent texts per `Kind`: the few groups of a policy are named by
  // most of its rules, and devices of one model repeat their rules' comments.
  template <typename Kind>
  static SharedText recentText(std::string_view text) {
    thread_local std::array<SharedText, 32> recent;
    thread_local size_t next = 0;
    for (const SharedText& t : recent) {
      if (t.size() == text.size() && std::string_view(t) == text) return t;
    }
    SharedText made{std::string(text)};
    recent[next++ % recent.size()] = made;
    return made;
  }
  struct GroupNames;
  struct Comments;

  bool parsePeer(const YamlNode& n, Rule& rule) {
    auto t = r_.text(n, "a peer");
    if (!t) return false;
    PeerSpec peer;
    peer.where = r_.at(n);
    if (*t == "any") {
      peer.kind = PeerSpec::Kind::Any;
      r_.warning(n, "'any' allows every address of the family");
    } else if (!t->empty() && (*t)[0] == '@') {
      peer.kind = PeerSpec::Kind::Group;
      std::string_view name = std::string_view(*t).substr(1);
      if (!isValidName(name)) {
        r_.error(n, "invalid group name '" + *t + "'");
        return false;
      }
      peer.group = recentText<GroupNames>(name);
    } else {
      PrefixParse parsed = parseIpPrefix(*t);
      if (!parsed.prefix) {
        r_.error(n, parsed.error);
        return false;
      }
      peer.kind = PeerSpec::Kind::Prefix;
      peer.prefix = *parsed.prefix;
    }
    rule.peers.push_back(std::move(peer));
    return true;
  }

  bool checkIcmpPeers(const Rule& rule) {
    bool ok = true;
    Family want = rule.proto == Proto::Icmp ? Family::V4 : Family::V6;
    for (const PeerSpec& p : rule.peers) {
      if (p.kind == PeerSpec::Kind::Prefix && p.prefix.address.family != want) {
        r_.diags().error(p.where, rule.proto == Proto::Icmp
                                      ? "icmp takes IPv4 peers only (use icmpv6 for IPv6)"
                                      : "icmpv6 takes IPv6 peers only (use icmp for IPv4)");
        ok = false;
      }
    }
    return ok;
  }

  bool parsePorts(const YamlNode& n, Rule& rule) {
    bool ok = true;
    std::vector<const YamlNode*> values = r_.oneOrMany(n, "ports");
    if (values.empty()) return false;
    for (const YamlNode* v : values) {
      auto range = parsePort(*v);
      if (range) {
        rule.ports.push_back(*range);
      } else {
        ok = false;
      }
    }
    return ok;
  }

  std::optional<PortRange> parsePort(const YamlNode& n) {
    if (n.kind != YamlNode::Kind::Scalar) {
      r_.error(n, std::string("a port must be a number or a range \"lo-hi\", not ") +
                      describeKind(n.kind));
      return std::nullopt;
    }
    auto number = [](std::string_view s) -> std::optional<uint32_t> {
      if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
      uint32_t v = 0;
      for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<uint32_t>(c - '0');
      }
      return v;
    };
    const std::string& s = n.scalar;
    size_t dash = s.find('-');
    auto lo = number(std::string_view(s).substr(0, dash));
    auto hi = dash == std::string::npos ? lo : number(std::string_view(s).substr(dash + 1));
    if (!lo || !hi) {
      r_.error(n, "invalid port '" + s + "' (a number 1-65535 or a range such as \"8000-8010\")");
      return std::nullopt;
    }
    if (*lo < 1 || *lo > 65535 || *hi < 1 || *hi > 65535) {
      r_.error(n, "port '" + s + "' is out of range (1-65535)");
      return std::nullopt;
    }
    if (*lo > *hi) {
      r_.error(n, "port range '" + s + "' is reversed (low end above high end)");
      return std::nullopt;
    }
    return PortRange{static_cast<uint16_t>(*lo), static_cast<uint16_t>(*hi)};
  }

  void parseViolations(const YamlNode& n, ViolationPolicy& v) {
    if (n.kind == YamlNode::Kind::Null) return;
    if (!r_.isMap(n, "violations")) return;
    MapFields f(r_, n, {"action", "threshold", "window", "release"}, "violations");
    if (const YamlNode* a = f.get("action")) {
      if (auto t = r_.text(*a, "action")) {
        if (*t == "isolate") {
          v.action = ViolationAction::Isolate;
        } else if (*t == "alert") {
          v.action = ViolationAction::Alert;
        } else {
          r_.error(*a, "invalid action '" + *t + "' (isolate or alert)");
        }
      }
    }
    if (const YamlNode* t = f.get("threshold")) {
      if (auto x = r_.integer(*t, "threshold", 1, kMaxThreshold))
        v.threshold = static_cast<uint32_t>(*x);
    }
    if (const YamlNode* w = f.get("window")) {
      if (auto x = r_.duration(*w, "window")) v.window = *x;
    }
    if (const YamlNode* rel = f.get("release")) {
      if (rel->kind == YamlNode::Kind::Scalar && rel->scalar == "manual") {
        v.release.reset();
      } else if (auto x = r_.duration(*rel, "release (manual or a duration)")) {
        v.release = *x;
      }
    }
  }

  void parseLimits(const YamlNode& n, Device& d) {
    if (n.kind == YamlNode::Kind::Null) return;
    if (!r_.isMap(n, "limits")) return;
    MapFields f(r_, n,
                {"inbound_new_per_second", "outbound_new_per_second", "concurrent_connections"},
                "limits");
    if (const YamlNode* x = f.get("inbound_new_per_second")) {
      if (auto v = r_.integer(*x, "inbound_new_per_second", 1, kMaxRate)) {
        d.inboundNewPerSecond = static_cast<uint32_t>(*v);
      }
    }
    if (const YamlNode* x = f.get("outbound_new_per_second")) {
      if (auto v = r_.integer(*x, "outbound_new_per_second", 1, kMaxRate)) {
        d.outboundNewPerSecond = static_cast<uint32_t>(*v);
      }
    }
    if (const YamlNode* x = f.get("concurrent_connections")) {
      if (auto v = r_.integer(*x, "concurrent_connections", 1, kMaxConnections)) {
        d.concurrentConnections = static_cast<uint32_t>(*v);
      }
    }
  }

  NodeReader r_;
};

}  // namespace

std::string interfaceNameError(const std::string& name) {
  return "invalid interface name '" + name + "' (1 to 15 characters, no '/', ':' or spaces)";
}

bool isValidInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c > ' ' && c < 0x7f && c != '/' && c != ':'; });
}

std::optional<Device> parseProfile(const YamlNode& root, const SharedText& file,
                                   Diagnostics& diags) {
  return ProfileParser(file, diags).parse(root);
}

std::map<std::string, Group> parseGroups(const YamlNode& root, const std::string& file,
                                         Diagnostics& diags) {
  std::map<std::string, Group> groups;
  NodeReader r(file, diags);
  if (root.kind == YamlNode::Kind::Null) return groups;
  if (!r.isMap(root, "the groups file")) return groups;
  MapFields f(r, root, {"groups"}, "groups file");
  const YamlNode* all = f.get("groups");
  if (!all || all->kind == YamlNode::Kind::Null) return groups;
  if (!r.isMap(*all, "groups")) return groups;
  for (const auto& [key, value] : all->entries) {
    if (!isValidName(key.scalar)) {
      r.error(key,
              "invalid group name '" + key.scalar +
                  "': use 1 to 63 of a-z, 0-9, '_', '.', '-', starting with a letter or digit");
      continue;
    }
    Group g;
    g.name = key.scalar;
    g.where = r.at(key);
    for (const YamlNode* v : r.oneOrMany(value, "group '" + key.scalar + "'")) {
      auto t = r.text(*v, "a group member");
      if (!t) continue;
      if (!t->empty() && (*t)[0] == '@') {
        r.error(*v, "a group may not reference another group ('" + *t + "')");
        continue;
      }
      if (*t == "any") {
        r.error(*v, "'any' is not allowed in a group; write 'any' in the rule itself");
        continue;
      }
      PrefixParse parsed = parseIpPrefix(*t);
      if (!parsed.prefix) {
        r.error(*v, parsed.error);
        continue;
      }
      if (std::find(g.members.begin(), g.members.end(), *parsed.prefix) != g.members.end()) {
        r.warning(*v, "'" + *t + "' is listed twice in group '" + g.name + "'");
        continue;
      }
      g.members.push_back(*parsed.prefix);
    }
    groups.emplace(g.name, std::move(g));
  }
  return groups;
}

}  // namespace ringfence::policy
