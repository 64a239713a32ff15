#include "policy/nft_text.h"

#include <cstdio>
#include <sstream>

#include "policy/model.h"
#include "policy/net_types.h"

namespace ringfence::policy {
namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string hex16(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

std::string quote(const std::string& s) { return "\"" + s + "\""; }

IpAddress addressAt(std::span<const uint8_t> bytes, size_t offset, Family f) {
  IpAddress a;
  a.family = f;
  for (size_t i = 0; i < a.size(); ++i) a.bytes[i] = bytes[offset + i];
  return a;
}

// The prefix length covering exactly [low, high], or -1.
int prefixLength(const IpAddress& low, const IpAddress& high) {
  int bits = static_cast<int>(low.size() * 8);
  for (int len = 0; len <= bits; ++len) {
    IpPrefix p{low, len};
    bool aligned = true;
    for (int b = len; b < bits && aligned; ++b) aligned = !((low.bytes[b / 8] >> (7 - b % 8)) & 1);
    if (aligned && p.last() == high) return len;
  }
  return -1;
}

std::string renderProto(uint8_t p) {
  // 58 (icmpv6) has no name that nft accepts in every setup: it stays a number.
  auto proto = protoFromNumber(p);
  if (!proto || *proto == Proto::Icmpv6) return std::to_string(p);
  return toString(*proto);
}

std::string renderPart(KeyType t, std::span<const uint8_t> low, std::span<const uint8_t> high,
                       size_t offset) {
  bool range = !high.empty();
  switch (t) {
    case KeyType::Ipv4Addr:
    case KeyType::Ipv6Addr: {
      Family f = t == KeyType::Ipv4Addr ? Family::V4 : Family::V6;
      IpAddress lo = addressAt(low, offset, f);
      if (!range) return toString(lo);
      IpAddress hi = addressAt(high, offset, f);
      if (lo == hi) return toString(lo);
      int len = prefixLength(lo, hi);
      if (len >= 0) return toString(IpPrefix{lo, len});
      return toString(lo) + "-" + toString(hi);
    }
    case KeyType::InetProto:
      return renderProto(low[offset]);
    case KeyType::InetService: {
      auto port = [&](std::span<const uint8_t> b) { return (b[offset] << 8) | b[offset + 1]; };
      int lo = port(low);
      if (!range || port(high) == lo) return std::to_string(lo);
      return std::to_string(lo) + "-" + std::to_string(port(high));
    }
    case KeyType::EtherAddr: {
      MacAddress m;
      for (size_t i = 0; i < 6; ++i) m.bytes[i] = low[offset + i];
      return toString(m);
    }
    case KeyType::IfName: {
      std::string name;
      for (size_t i = 0; i < keyLength(t) && low[offset + i]; ++i)
        name += static_cast<char>(low[offset + i]);
      return quote(name);
    }
    case KeyType::LimitObject:
    case KeyType::Verdict:
      return "?";
  }
  return "?";
}

std::string renderExpr(const Expr& e) {
  struct Visitor {
    std::string operator()(const Lookup& l) const {
      std::string key;
      for (size_t i = 0; i < l.key.size(); ++i)
        key += (i ? " . " : "") + std::string(nftFieldText(l.key[i]));
      return key + (l.negate ? " != @" : " @") + l.set;
    }
    std::string operator()(const InPrefix& p) const {
      return std::string(nftFieldText(p.field)) + " " + toString(p.prefix);
    }
    std::string operator()(const CtStateIs& c) const {
      std::string out;
      auto add = [&](uint32_t bit, const char* name) {
        if (c.states & bit) out += (out.empty() ? "" : ",") + std::string(name);
      };
      add(kCtInvalid, "invalid");
      add(kCtEstablished, "established");
      add(kCtRelated, "related");
      add(kCtNew, "new");
      return "ct state " + out;
    }
    std::string operator()(const LimitByMap& l) const {
      return std::string("limit name ") + nftFieldText(l.key) + " map @" + l.map;
    }
    std::string operator()(const VerdictMapLookup& v) const {
      std::string key;
      for (size_t i = 0; i < v.key.size(); ++i)
        key += (i ? " . " : "") + std::string(nftFieldText(v.key[i]));
      return key + " vmap @" + v.map;
    }
    std::string operator()(const CtMarkOr& m) const {
      return "ct mark set ct mark | " + hex32(m.bits);
    }
    std::string operator()(const Log& l) const {
      return "log prefix " + quote(l.prefix) + " group " + std::to_string(l.group);
    }
    std::string operator()(const Counter&) const { return "counter"; }
    std::string operator()(const ByteIs& b) const {
      switch (b.field) {
        case ByteField::L4Proto:
          return "meta l4proto " + renderProto(b.value);
        case ByteField::Icmpv6Type:
          return "icmpv6 type " + std::to_string(b.value);
        case ByteField::Ip6Hoplimit:
          return "ip6 hoplimit " + std::to_string(b.value);
        case ByteField::Ip6Nexthdr:
          return "ip6 nexthdr " + std::to_string(b.value);
        case ByteField::CtDirection:
          return std::string("ct direction ") + (b.value ? "reply" : "original");
        case ByteField::PktType:
          return std::string("meta pkttype ") + (b.value == 0   ? "host"
                                                 : b.value == 1 ? "broadcast"
                                                 : b.value == 2 ? "multicast"
                                                                : "other");
      }
      return "?";
    }
    std::string operator()(const CtMarkHas& m) const {
      return "ct mark & " + hex32(m.bits) + (m.negate ? " != " : " == ") + hex32(m.bits);
    }
    std::string operator()(const MetaMarkOr& m) const {
      if (!m.clear) return "meta mark set meta mark | " + hex32(m.bits);
      std::string out = "meta mark set meta mark & " + hex32(~(m.clear | m.bits));
      return m.bits ? out + " | " + hex32(m.bits) : out;
    }
    std::string operator()(const FieldIs& f) const {
      std::string value;
      if (f.field == Field::NdTarget) {  // raw payload: nft takes an integer
        value = "0x";
        for (uint8_t b : f.value) {
          char hex[3];
          std::snprintf(hex, sizeof hex, "%02x", b);
          value += hex;
        }
      } else {
        value = renderPart(fieldType(f.field), KeyBytes(f.value.begin(), f.value.end()), {}, 0);
      }
      return std::string(nftFieldText(f.field)) + (f.negate ? " != " : " ") + value;
    }
    std::string operator()(const SetUpdate& u) const {
      std::string key;
      for (size_t i = 0; i < u.key.size(); ++i)
        key += (i ? " . " : "") + std::string(nftFieldText(u.key[i]));
      return "update @" + u.set + " { " + key + " }";
    }
    std::string operator()(const MetaMarkHas& m) const {
      return "meta mark & " + hex32(m.bits) + (m.negate ? " != " : " == ") + hex32(m.bits);
    }
    std::string operator()(const EtherTypeIs& t) const {
      std::string name = t.value == kEtherTypeArp ? "arp"
                         : t.value == 0x0800      ? "ip"
                         : t.value == 0x86dd      ? "ip6"
                                                  : hex16(t.value);
      return std::string("meta protocol ") + (t.negate ? "!= " : "") + name;
    }
    std::string operator()(const Meter& m) const {
      std::string key = nftFieldText(m.key);
      switch (m.kind) {
        case MeterKind::Rate:
          return "update @" + m.set + " { " + key + " limit rate over " + std::to_string(m.value) +
                 "/second burst " + std::to_string(m.value) + " packets }";
        case MeterKind::Connections:
          return "add @" + m.set + " { " + key + " ct count over " + std::to_string(m.value) + " }";
      }
      return "";
    }
  };
  return std::visit(Visitor{}, e);
}

}  // namespace

std::string renderElementKey(const SetDef& set, const ElementView& element) {
  // A key is read by its set's layout: one of another length (no compiled
  // plan has one) is named, never read past its end.
  size_t length = 0;
  for (KeyType t : set.key) length += keyLength(t);
  if (element.low.size() != length || (!element.high.empty() && element.high.size() != length))
    return "(a key of " + std::to_string(element.low.size()) + " bytes, not " +
           std::to_string(length) + ")";
  std::string out;
  size_t offset = 0;
  for (size_t i = 0; i < set.key.size(); ++i) {
    if (i) out += " . ";
    out += renderPart(set.key[i], element.low, element.high, offset);
    offset += keyLength(set.key[i]);
  }
  return out;
}

std::string renderRule(const PlanRule& rule) {
  std::string out;
  for (const Expr& e : rule.exprs) out += (out.empty() ? "" : " ") + renderExpr(e);
  std::string v;
  switch (rule.verdict.kind) {
    case VerdictKind::Continue:
      break;
    case VerdictKind::Accept:
      v = "accept";
      break;
    case VerdictKind::Drop:
      v = "drop";
      break;
    case VerdictKind::Return:
      v = "return";
      break;
    case VerdictKind::Jump:
      v = "jump " + rule.verdict.chain;
      break;
    case VerdictKind::Goto:
      v = "goto " + rule.verdict.chain;
      break;
  }
  if (!v.empty()) out += (out.empty() ? "" : " ") + v;
  if (!rule.comment.empty()) out += " comment " + quote(rule.comment);
  return out;
}

std::string renderNft(const Plan& plan) {
  std::ostringstream o;
  o << "table " << (plan.family == TableFamily::Bridge ? "bridge " : "inet ") << plan.table
    << " {\n";
  for (const LimitObject* l : plan.allLimits()) {
    o << "\tlimit " << l->name << " {\n\t\trate over " << l->perSecond << "/second burst "
      << l->burst << " packets\n\t}\n\n";
  }
  std::vector<std::vector<ElementRef>> all = plan.setElements(0, plan.sets.size());
  for (size_t si = 0; si < plan.sets.size(); ++si) {
    const SetDef& s = plan.sets[si];
    const std::vector<ElementRef>& elements = all[si];
    o << "\t" << (s.data ? "map " : "set ") << s.name << " {\n\t\ttype ";
    for (size_t i = 0; i < s.key.size(); ++i) o << (i ? " . " : "") << nftTypeName(s.key[i]);
    if (s.data) o << " : " << nftTypeName(*s.data);
    o << "\n";
    std::string flags;
    for (auto [on, name] : {std::pair{s.interval, "interval"}, std::pair{s.timeout, "timeout"},
                            std::pair{s.dynamic, "dynamic"}}) {
      if (on) flags += flags.empty() ? name : std::string(",") + name;
    }
    if (!flags.empty()) o << "\t\tflags " << flags << "\n";
    if (s.size) o << "\t\tsize " << s.size << "\n";
    if (s.timeoutMs) {
      uint64_t sec = s.timeoutMs / 1000;
      o << "\t\ttimeout "
        << (sec % 3600 == 0 ? std::to_string(sec / 3600) + "h"
            : sec % 60 == 0 ? std::to_string(sec / 60) + "m"
                            : std::to_string(sec) + "s")
        << "\n";
    }
    if (s.counters) o << "\t\tcounter\n";
    o << "\t\tcomment " << quote(s.comment) << "\n";
    if (!elements.empty()) {
      o << "\t\telements = {";
      for (size_t i = 0; i < elements.size(); ++i) {
        ElementView e = *elements[i];
        o << (i ? ",\n\t\t\t     " : " ") << renderElementKey(s, e);
        if (!e.comment.empty()) o << " comment " << quote(e.comment);
        if (s.data) o << " : " << e.data.str();
      }
      o << " }\n";
    }
    o << "\t}\n\n";
  }
  for (size_t c = 0; c < plan.chains.size(); ++c) {
    const Chain& chain = plan.chains[c];
    o << "\tchain " << chain.name << " {\n";
    if (chain.base) {
      o << "\t\ttype filter hook " << chain.base->hook << " priority " << chain.base->priority
        << "; policy " << (chain.base->acceptByDefault ? "accept" : "drop") << ";\n";
    }
    for (const PlanRule& r : chain.rules) o << "\t\t" << renderRule(r) << "\n";
    o << "\t}\n" << (c + 1 < plan.chains.size() ? "\n" : "");
  }
  o << "}\n";
  for (const Plan& companion : plan.companions) o << renderNft(companion);
  return o.str();
}

}  // namespace ringfence::policy
