// The fields of the model (model.h) and of the plan (plan.h), for packing.h:
// every field of every struct, in declaration order. A field added to one of
// those structs and not here is lost on the way to disk and back; the
// round-trip tests (tests/unit/policy_packing_test.cc) compare whole
// policies and plans, and the daemon compares what it started from with a
// compile from scratch (docs/policy-loading.md, "Starting from the compiled
// policy").
#pragma once

#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "policy/model.h"
#include "policy/packing.h"
#include "policy/plan.h"
#include "policy/sources.h"

namespace ringfence::policy {

// Net types and diagnostics.
template <typename A>
void fields(A& a, IpAddress& x) {
  a(x.family, x.bytes);
}
template <typename A>
void fields(A& a, IpPrefix& x) {
  a(x.address, x.length);
}
template <typename A>
void fields(A& a, MacAddress& x) {
  a(x.bytes);
}
template <typename A>
void fields(A& a, SourceLocation& x) {
  a(x.file, x.line, x.column);
}

// The model.
template <typename A>
void fields(A& a, PortRange& x) {
  a(x.low, x.high);
}
template <typename A>
void fields(A& a, PeerSpec& x) {
  a(x.kind, x.prefix, x.group, x.where);
}
template <typename A>
void fields(A& a, ResolvedPeer& x) {
  a(x.prefix, x.via);
}
template <typename A>
void fields(A& a, Rule& x) {
  a(x.direction, x.peers, x.resolved, x.proto, x.ports, x.comment, x.critical, x.where);
}
template <typename A>
void fields(A& a, ViolationPolicy& x) {
  a(x.action, x.threshold, x.window, x.release);
}
template <typename A>
void fields(A& a, Device& x) {
  a(x.name, x.file, x.where, x.description, x.inventory, x.addresses, x.addressWhere, x.mac,
    x.macWhere, x.interface, x.mode, x.outbound, x.inbound, x.maintenance, x.violations,
    x.inboundNewPerSecond, x.outboundNewPerSecond, x.concurrentConnections);
}
template <typename A, typename T>
void fields(A& a, SharedList<T>& x) {
  a(x.items());
}
template <typename A>
void fields(A& a, Group& x) {
  a(x.name, x.members, x.where);
}
template <typename A>
void fields(A& a, DaemonConfig& x) {
  a(x.file, x.profilesDir, x.groupsFile, x.stateDir, x.table, x.deviceInterfaces, x.unknownDevices,
    x.adminGroup, x.gatewayServices, x.topology, x.uplinkInterfaces, x.conntrackWarnPercent);
}
template <typename A>
void fields(A& a, Policy& x) {
  a(x.config, x.groups, x.devices);
}

// The sources.
template <typename A>
void fields(A& a, FileStamp& x) {
  a(x.device, x.inode, x.size, x.modifiedNs, x.changedNs);
}
template <typename A>
void fields(A& a, SourceFile& x) {
  a(x.path, x.text, x.modifiedNs, x.stamp);
}
template <typename A>
void fields(A& a, PolicySources& x) {
  a(x.config, x.groups, x.profiles);
}

// The plan.
template <typename A>
void fields(A& a, SetElement& x) {
  a(x.low, x.high, x.data, x.comment, x.timeoutMs);
}
template <typename A>
void fields(A& a, SetDef& x) {
  a(x.name, x.key, x.data, x.interval, x.timeout, x.counters, x.dynamic, x.size, x.timeoutMs,
    x.comment, x.elements);
}
template <typename A>
void fields(A& a, LimitObject& x) {
  a(x.name, x.perSecond, x.burst, x.device);
}
template <typename A>
void fields(A& a, Lookup& x) {
  a(x.key, x.set, x.negate);
}
template <typename A>
void fields(A& a, InPrefix& x) {
  a(x.field, x.prefix);
}
template <typename A>
void fields(A& a, CtStateIs& x) {
  a(x.states);
}
template <typename A>
void fields(A& a, LimitByMap& x) {
  a(x.key, x.map);
}
template <typename A>
void fields(A& a, VerdictMapLookup& x) {
  a(x.key, x.map);
}
template <typename A>
void fields(A& a, CtMarkOr& x) {
  a(x.bits);
}
template <typename A>
void fields(A& a, Log& x) {
  a(x.group, x.prefix);
}
template <typename A>
void fields(A&, Counter&) {}
template <typename A>
void fields(A& a, ByteIs& x) {
  a(x.field, x.value);
}
template <typename A>
void fields(A& a, CtMarkHas& x) {
  a(x.bits, x.negate);
}
template <typename A>
void fields(A& a, Meter& x) {
  a(x.key, x.set, x.kind, x.value);
}
template <typename A>
void fields(A& a, MetaMarkOr& x) {
  a(x.bits, x.clear);
}
template <typename A>
void fields(A& a, SetUpdate& x) {
  a(x.key, x.set);
}
template <typename A>
void fields(A& a, MetaMarkHas& x) {
  a(x.bits, x.negate);
}
template <typename A>
void fields(A& a, FieldIs& x) {
  a(x.field, x.value, x.negate);
}
template <typename A>
void fields(A& a, EtherTypeIs& x) {
  a(x.value, x.negate);
}
template <typename A>
void fields(A& a, Verdict& x) {
  a(x.kind, x.chain);
}
template <typename A>
void fields(A& a, PlanRule& x) {
  a(x.exprs, x.verdict, x.comment);
}
template <typename A>
void fields(A& a, BaseHook& x) {
  a(x.hook, x.priority, x.acceptByDefault);
}
template <typename A>
void fields(A& a, Chain& x) {
  a(x.name, x.base, x.rules);
}
template <typename A>
void fields(A& a, ElementSlice& x) {
  a(x.set, x.begin, x.end);
}
// A device part's elements as they are held (set_element.h): their bytes
// and their texts. Unpacked bytes are checked element by element.
template <typename A>
void fields(A& a, ElementList& x) {
  if constexpr (std::is_same_v<A, Unpacker>) {
    // The bytes last: a view of the input, copied before the unpacking goes
    // on (the input behind is given back between items of a list).
    std::vector<SharedText> texts;
    std::string_view bytes;
    a(texts, bytes);
    std::optional<ElementList> made = ElementList::fromBytes(bytes, std::move(texts));
    if (!made) throw PackingError("a device's elements are malformed");
    x = std::move(*made);
  } else {
    a(x.texts(), x.bytes());
  }
}
template <typename A>
void fields(A& a, DeviceElements& x) {
  a(x.device, x.slices, x.elements, x.limit, x.fingerprint, x.maintenance);
  if constexpr (std::is_same_v<A, Unpacker>) {
    // As compiled: one slice for each set with elements, in set order,
    // together covering the elements in order (unpackPlan checks the sets).
    uint32_t at = 0;
    for (size_t i = 0; i < x.slices.size(); ++i) {
      const ElementSlice& s = x.slices[i];
      if (s.begin != at || s.end <= s.begin || (i > 0 && s.set <= x.slices[i - 1].set))
        throw PackingError("a device's slices do not cover its elements in order");
      at = s.end;
    }
    if (at != x.elements.size()) throw PackingError("a device's slices do not cover its elements");
  }
}
template <typename A>
void fields(A& a, Plan& x) {
  a(x.table, x.family, x.companions, x.needsBridgeNetfilter, x.limits, x.sets, x.chains, x.devices);
}

}  // namespace ringfence::policy
