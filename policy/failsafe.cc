#include "policy/failsafe.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "policy/bridge_table.h"

namespace ringfence::policy {
namespace {

constexpr const char* kChain = "failsafe";
constexpr const char* kInputChain = "failsafe_input";

Log failsafeLog() { return Log{kNflogGroup, kFailsafeLogPrefix}; }

// `field` in `set` (or everything), logged and dropped.
PlanRule dropRule(std::optional<std::pair<Field, const char*>> match, std::string comment) {
  PlanRule r;
  if (match) r.exprs.emplace_back(Lookup{{match->first}, match->second, false});
  r.exprs.emplace_back(failsafeLog());
  r.verdict = Verdict{VerdictKind::Drop, {}};
  r.comment = std::move(comment);
  return r;
}

SetDef addressSet(const char* name, KeyType type, const char* comment) {
  SetDef s;
  s.name = name;
  s.key = {type};
  s.comment = comment;
  return s;
}

PlanRule acceptRule(std::vector<Expr> exprs, std::string comment) {
  return PlanRule{std::move(exprs), Verdict{VerdictKind::Accept, {}}, std::move(comment)};
}

// What devices may still reach on the gateway itself in failsafe: neighbour
// discovery and DHCP, nothing else; isolated devices not even that.
Chain inputChain() {
  Chain c;
  c.name = kInputChain;
  c.base = BaseHook{"input", 0, true};
  auto& r = c.rules;
  auto in = [](Field f, const char* set) { return std::pair{f, set}; };
  r.push_back(dropRule(in(Field::IpSaddr, setname::kIsolated4), "isolated devices reach nothing"));
  r.push_back(dropRule(in(Field::Ip6Saddr, setname::kIsolated6), "isolated devices reach nothing"));
  r.push_back(dropRule(in(Field::EtherSaddr, setname::kIsolatedMac),
                       "isolated devices reach nothing, whatever address they take"));
  r.push_back(
      acceptRule({Lookup{{Field::Iifname}, "devifs", true}}, "not from a device interface"));
  for (uint8_t type : {uint8_t{133}, uint8_t{135}, uint8_t{136}}) {
    r.push_back(
        acceptRule({ByteIs{ByteField::Ip6Hoplimit, 255}, ByteIs{ByteField::Icmpv6Type, type}},
                   type == 133 ? "router solicitation" : "neighbour discovery"));
  }
  r.push_back(acceptRule({Lookup{{Field::L4Proto, Field::ThDport}, "gateway_base", false}},
                         "DHCP and DHCPv6"));
  r.push_back(dropRule(std::nullopt, "failsafe: nothing else from a device interface"));
  return c;
}

SetDef gatewayBase() {
  return udpPortSet("gateway_base", "what devices still reach on the gateway in failsafe",
                    {{67, "DHCP"}, {547, "DHCPv6"}});
}

}  // namespace

Plan failsafePlan(const std::string& table, const std::vector<std::string>& deviceInterfaces,
                  const std::optional<std::vector<std::string>>& bridgeUplinks) {
  Plan plan;
  plan.table = table;
  if (bridgeUplinks) plan.companions.push_back(failsafeBridgeTable(table, *bridgeUplinks));

  SetDef devifs = ifnameSet("devifs", deviceInterfaces,
                            "interfaces that face devices (failsafe: nothing passes them)");
  bool anyInterface = !devifs.elements.empty();
  plan.sets.push_back(std::move(devifs));
  plan.sets.push_back(addressSet(setname::kIsolated4, KeyType::Ipv4Addr,
                                 "addresses of isolated devices (filled by the daemon)"));
  plan.sets.push_back(addressSet(setname::kIsolated6, KeyType::Ipv6Addr,
                                 "addresses of isolated devices (filled by the daemon)"));
  // Forwarding from device interfaces is dropped whatever the MAC; the
  // input chain uses it.
  plan.sets.push_back(addressSet(setname::kIsolatedMac, KeyType::EtherAddr,
                                 "MACs of isolated devices (filled by the daemon)"));

  Chain c;
  c.name = kChain;
  // Policy drop as well: should a rule ever be missing, nothing passes.
  c.base = BaseHook{"forward", 0, anyInterface};
  auto& r = c.rules;
  auto in = [](Field f, const char* set) { return std::pair{f, set}; };
  r.push_back(dropRule(in(Field::IpSaddr, setname::kIsolated4), "isolated devices"));
  r.push_back(dropRule(in(Field::IpDaddr, setname::kIsolated4), "isolated devices"));
  r.push_back(dropRule(in(Field::Ip6Saddr, setname::kIsolated6), "isolated devices"));
  r.push_back(dropRule(in(Field::Ip6Daddr, setname::kIsolated6), "isolated devices"));
  if (!anyInterface) {
    r.push_back(
        dropRule(std::nullopt, "failsafe: no device interface known, nothing is forwarded"));
  } else {
    r.push_back(
        dropRule(in(Field::Iifname, "devifs"), "failsafe: nothing from a device interface"));
    r.push_back(dropRule(in(Field::Oifname, "devifs"), "failsafe: nothing to a device interface"));
  }
  plan.chains.push_back(std::move(c));
  // Without a device interface (the configuration is unreadable) the input
  // hook is left alone: the admin must still reach the gateway to fix it.
  if (anyInterface) {
    plan.sets.push_back(gatewayBase());
    plan.chains.push_back(inputChain());
  }
  return plan;
}

bool isFailsafePlan(const Plan& plan) {
  return !plan.chains.empty() && plan.chains.size() <= 2 && plan.chains[0].name == kChain;
}

}  // namespace ringfence::policy
