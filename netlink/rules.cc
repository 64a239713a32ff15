#include "netlink/rules.h"

#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>

#include <array>
#include <optional>
#include <stdexcept>
#include <variant>

namespace ringfence::netlink {
namespace {

using policy::Field;

class RuleBuilder {
 public:
  RuleBuilder(nftnl_rule* rule, bool bridge) : rule_(rule), bridge_(bridge) {}

  void add(const char* type, auto&& configure) {
    nftnl_expr* e = nftnl_expr_alloc(type);
    if (!e) throw std::bad_alloc();
    configure(e);
    nftnl_rule_add_expr(rule_, e);  // the rule owns it now
  }

  void cmp(uint32_t reg, uint32_t op, const void* data, uint32_t len) {
    add("cmp", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, reg);
      nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
      nftnl_expr_set_data(e, NFTNL_EXPR_CMP_DATA, data, len);
    });
  }
  void meta(uint32_t key, uint32_t reg) {
    add("meta", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
      nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, reg);
    });
  }
  void payload(uint32_t base, uint32_t offset, uint32_t len, uint32_t reg) {
    add("payload", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg);
    });
  }
  void ctLoad(uint32_t key, uint32_t reg, std::optional<uint8_t> direction = std::nullopt) {
    add("ct", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
      nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, reg);
      if (direction) nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, *direction);
    });
  }
  void bitwise(uint32_t reg, uint32_t mask, uint32_t xorValue) {
    add("bitwise", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
      nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
      nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
      nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
      nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_XOR, &xorValue, sizeof xorValue);
    });
  }

  // Protocol checks that a field needs, each once per rule, as nft adds them.
  void dependency(Field f) {
    switch (f) {
      case Field::IpSaddr:
      case Field::IpDaddr:
      case Field::CtOrigIpSaddr:
      case Field::CtReplyIpSaddr:
        once(haveIpv4_, [&] { bridge_ ? etherType(0x0800) : nfproto(NFPROTO_IPV4); });
        break;
      case Field::Ip6Saddr:
      case Field::Ip6Daddr:
      case Field::CtOrigIp6Saddr:
      case Field::CtReplyIp6Saddr:
        once(haveIpv6_, [&] { bridge_ ? etherType(0x86dd) : nfproto(NFPROTO_IPV6); });
        break;
      case Field::ArpSaddrIp:
      case Field::ArpSaddrEther:
        once(haveArp_, [&] { etherType(policy::kEtherTypeArp); });
        break;
      case Field::NdTarget:  // raw payload, as nft: the rule that jumps here checks the type
        break;
      case Field::EtherSaddr:
        if (bridge_) break;  // every bridge port is Ethernet
        once(haveEther_, [&] {
          meta(NFT_META_IIFTYPE, NFT_REG_1);
          uint16_t ether = ARPHRD_ETHER;
          cmp(NFT_REG_1, NFT_CMP_EQ, &ether, sizeof ether);
        });
        break;
      case Field::L4Proto:
      case Field::ThDport:
      case Field::ThSport:
      case Field::Iifname:
      case Field::Oifname:
        break;
    }
  }

  void load(Field f, uint32_t reg) {
    switch (f) {
      case Field::IpSaddr:
        return payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4, reg);
      case Field::IpDaddr:
        return payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, reg);
      case Field::Ip6Saddr:
        return payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 16, reg);
      case Field::Ip6Daddr:
        return payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 16, reg);
      case Field::L4Proto:
        return meta(NFT_META_L4PROTO, reg);
      case Field::ThDport:
        return payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg);
      case Field::ThSport:
        return payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, reg);
      case Field::EtherSaddr:
        return payload(NFT_PAYLOAD_LL_HEADER, 6, 6, reg);
      case Field::Iifname:
        return meta(NFT_META_IIFNAME, reg);
      case Field::Oifname:
        return meta(NFT_META_OIFNAME, reg);
      case Field::CtOrigIpSaddr:
        return ctLoad(NFT_CT_SRC_IP, reg, IP_CT_DIR_ORIGINAL);
      case Field::CtReplyIpSaddr:
        return ctLoad(NFT_CT_SRC_IP, reg, IP_CT_DIR_REPLY);
      case Field::CtOrigIp6Saddr:
        return ctLoad(NFT_CT_SRC_IP6, reg, IP_CT_DIR_ORIGINAL);
      case Field::CtReplyIp6Saddr:
        return ctLoad(NFT_CT_SRC_IP6, reg, IP_CT_DIR_REPLY);
      case Field::ArpSaddrEther:
        return payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 6, reg);
      case Field::ArpSaddrIp:
        return payload(NFT_PAYLOAD_NETWORK_HEADER, 14, 4, reg);
      case Field::NdTarget:
        return payload(NFT_PAYLOAD_TRANSPORT_HEADER, 8, 16, reg);
    }
  }

  void loadKey(const std::vector<Field>& key) {
    for (Field f : key) dependency(f);
    size_t offset = 0;
    for (Field f : key) {
      load(f, keyRegister(offset));
      offset += paddedLength(policy::fieldType(f));
    }
  }

  void expr(const policy::Expr& e) {
    std::visit([this](const auto& x) { emit(x); }, e);
  }

  void emit(const policy::Lookup& l) {
    loadKey(l.key);
    add("lookup", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
      nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, l.set.c_str());
      if (l.negate) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
    });
  }
  void emit(const policy::VerdictMapLookup& v) {
    loadKey(v.key);
    add("lookup", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
      nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, v.map.c_str());
    });
  }
  void emit(const policy::InPrefix& p) {
    dependency(p.field);
    uint32_t len = static_cast<uint32_t>(p.prefix.address.size());
    load(p.field, NFT_REG_1);
    if (!p.prefix.isHost()) {
      std::array<uint8_t, 16> mask{}, zero{};
      for (int bit = 0; bit < p.prefix.length; ++bit)
        mask[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
      add("bitwise", [&](nftnl_expr* e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
        nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_MASK, mask.data(), len);
        nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_XOR, zero.data(), len);
      });
    }
    cmp(NFT_REG_1, NFT_CMP_EQ, p.prefix.address.bytes.data(), len);
  }
  void emit(const policy::CtStateIs& c) {
    ctLoad(NFT_CT_STATE, NFT_REG_1);
    bitwise(NFT_REG_1, c.states, 0);
    uint32_t zero = 0;
    cmp(NFT_REG_1, NFT_CMP_NEQ, &zero, sizeof zero);
  }
  void emit(const policy::LimitByMap& l) {
    loadKey({l.key});
    add("objref", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_SET_SREG, NFT_REG_1);
      nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_SET_NAME, l.map.c_str());
    });
  }
  void emit(const policy::CtMarkOr& m) {
    ctLoad(NFT_CT_MARK, NFT_REG_1);
    bitwise(NFT_REG_1, ~m.bits, m.bits);
    add("ct", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
      nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
    });
  }
  void emit(const policy::Log& l) {
    add("log", [&](nftnl_expr* e) {
      nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, l.prefix.c_str());
      nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, l.group);
    });
  }
  void emit(const policy::Counter&) {
    add("counter", [](nftnl_expr*) {});
  }
  void emit(const policy::ByteIs& b) {
    switch (b.field) {
      case policy::ByteField::L4Proto:
        meta(NFT_META_L4PROTO, NFT_REG_1);
        break;
      case policy::ByteField::Icmpv6Type: {
        meta(NFT_META_L4PROTO, NFT_REG_1);
        uint8_t icmpv6 = 58;  // IPPROTO_ICMPV6
        cmp(NFT_REG_1, NFT_CMP_EQ, &icmpv6, sizeof icmpv6);
        payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
        break;
      }
      case policy::ByteField::Ip6Hoplimit:
        dependency(Field::Ip6Saddr);
        payload(NFT_PAYLOAD_NETWORK_HEADER, 7, 1, NFT_REG_1);
        break;
      case policy::ByteField::Ip6Nexthdr:
        dependency(Field::Ip6Saddr);
        payload(NFT_PAYLOAD_NETWORK_HEADER, 6, 1, NFT_REG_1);
        break;
      case policy::ByteField::CtDirection:
        ctLoad(NFT_CT_DIRECTION, NFT_REG_1);
        break;
      case policy::ByteField::PktType:
        meta(NFT_META_PKTTYPE, NFT_REG_1);
        break;
    }
    cmp(NFT_REG_1, NFT_CMP_EQ, &b.value, sizeof b.value);
  }
  void emit(const policy::CtMarkHas& m) {
    ctLoad(NFT_CT_MARK, NFT_REG_1);
    bitwise(NFT_REG_1, m.bits, 0);
    cmp(NFT_REG_1, m.negate ? NFT_CMP_NEQ : NFT_CMP_EQ, &m.bits, sizeof m.bits);
  }
  void emit(const policy::MetaMarkOr& m) {
    meta(NFT_META_MARK, NFT_REG_1);
    bitwise(NFT_REG_1, ~(m.bits | m.clear), m.bits);
    add("meta", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
      nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
    });
  }
  void emit(const policy::MetaMarkHas& m) {
    meta(NFT_META_MARK, NFT_REG_1);
    bitwise(NFT_REG_1, m.bits, 0);
    cmp(NFT_REG_1, m.negate ? NFT_CMP_NEQ : NFT_CMP_EQ, &m.bits, sizeof m.bits);
  }
  void emit(const policy::FieldIs& f) {
    dependency(f.field);
    load(f.field, NFT_REG_1);
    cmp(NFT_REG_1, f.negate ? NFT_CMP_NEQ : NFT_CMP_EQ, f.value.data(),
        static_cast<uint32_t>(f.value.size()));
  }
  void emit(const policy::SetUpdate& u) {
    loadKey(u.key);
    add("dynset", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
      nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, u.set.c_str());
    });
  }
  void emit(const policy::EtherTypeIs& t) {
    meta(NFT_META_PROTOCOL, NFT_REG_1);
    uint16_t value = htons(t.value);
    cmp(NFT_REG_1, t.negate ? NFT_CMP_NEQ : NFT_CMP_EQ, &value, sizeof value);
  }
  void emit(const policy::Meter& m) {
    loadKey({m.key});
    nftnl_expr* state = nullptr;
    switch (m.kind) {
      case policy::MeterKind::Rate:
        state = nftnl_expr_alloc("limit");
        if (!state) throw std::bad_alloc();
        nftnl_expr_set_u64(state, NFTNL_EXPR_LIMIT_RATE, m.value);
        nftnl_expr_set_u64(state, NFTNL_EXPR_LIMIT_UNIT, 1);
        nftnl_expr_set_u32(state, NFTNL_EXPR_LIMIT_BURST, m.value);
        nftnl_expr_set_u32(state, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
        nftnl_expr_set_u32(state, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
        break;
      case policy::MeterKind::Connections:
        state = nftnl_expr_alloc("connlimit");
        if (!state) throw std::bad_alloc();
        nftnl_expr_set_u32(state, NFTNL_EXPR_CONNLIMIT_COUNT, m.value);
        nftnl_expr_set_u32(state, NFTNL_EXPR_CONNLIMIT_FLAGS, NFT_CONNLIMIT_F_INV);
        break;
    }
    bool update = m.kind == policy::MeterKind::Rate;
    add("dynset", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP,
                         update ? NFT_DYNSET_OP_UPDATE : NFT_DYNSET_OP_ADD);
      nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, m.set.c_str());
      nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, state, 0);  // the dynset owns it now
    });
  }

  void verdict(const policy::Verdict& v) {
    int code = 0;
    switch (v.kind) {
      case policy::VerdictKind::Continue:
        return;
      case policy::VerdictKind::Accept:
        code = NF_ACCEPT;
        break;
      case policy::VerdictKind::Drop:
        code = NF_DROP;
        break;
      case policy::VerdictKind::Return:
        code = NFT_RETURN;
        break;
      case policy::VerdictKind::Jump:
        code = NFT_JUMP;
        break;
      case policy::VerdictKind::Goto:
        code = NFT_GOTO;
        break;
    }
    add("immediate", [&](nftnl_expr* e) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
      nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(code));
      if (!v.chain.empty()) nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, v.chain.c_str());
    });
  }

 private:
  void etherType(uint16_t type) {
    meta(NFT_META_PROTOCOL, NFT_REG_1);
    uint16_t value = htons(type);
    cmp(NFT_REG_1, NFT_CMP_EQ, &value, sizeof value);
  }
  void nfproto(uint8_t proto) {
    meta(NFT_META_NFPROTO, NFT_REG_1);
    cmp(NFT_REG_1, NFT_CMP_EQ, &proto, sizeof proto);
  }
  template <typename F>
  void once(bool& done, F&& f) {
    if (!done) f();
    done = true;
  }

  nftnl_rule* rule_;
  bool bridge_;
  bool haveArp_ = false;
  bool haveIpv4_ = false;
  bool haveIpv6_ = false;
  bool haveEther_ = false;
};

}  // namespace

uint32_t keyRegister(size_t offset) {
  // nft names 16-byte aligned parts by the 128-bit registers, the rest by 32-bit ones.
  if (offset % 16 == 0) return NFT_REG_1 + static_cast<uint32_t>(offset / 16);
  return NFT_REG32_00 + static_cast<uint32_t>(offset / 4);
}

size_t paddedLength(policy::KeyType t) { return (policy::keyLength(t) + 3) / 4 * 4; }

RulePtr buildRule(uint8_t family, const std::string& table, const std::string& chain,
                  const policy::PlanRule& rule) {
  RulePtr r(nftnl_rule_alloc());
  if (!r) throw std::bad_alloc();
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, family);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain.c_str());
  RuleBuilder b(r.get(), family == NFPROTO_BRIDGE);
  for (const policy::Expr& e : rule.exprs) b.expr(e);
  b.verdict(rule.verdict);
  if (!rule.comment.empty()) {
    UdataPtr u(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
    nftnl_udata_put_strz(u.get(), NFTNL_UDATA_RULE_COMMENT, rule.comment.c_str());
    nftnl_rule_set_data(r.get(), NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u.get()),
                        nftnl_udata_buf_len(u.get()));
  }
  return r;
}

}  // namespace ringfence::netlink
