#include "netlink/encoder.h"

#include <endian.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

#include "netlink/handles.h"
#include "netlink/rules.h"

namespace ringfence::netlink {
namespace {

using policy::ElementRef;
using policy::ElementView;
using policy::KeyType;
using policy::Plan;
using policy::SetDef;

// Datatype numbers of nftables (src/datatype.h): they tell `nft list` how to print keys.
uint32_t datatypeNumber(KeyType t) {
  switch (t) {
    case KeyType::Ipv4Addr:
      return 7;
    case KeyType::Ipv6Addr:
      return 8;
    case KeyType::EtherAddr:
      return 9;
    case KeyType::InetProto:
      return 12;
    case KeyType::InetService:
      return 13;
    case KeyType::IfName:
      return 41;
    case KeyType::LimitObject:
    case KeyType::Verdict:
      return 0;
  }
  return 0;
}

// nftables byte order hints: 0 invalid (concatenations), 1 host, 2 big endian.
uint32_t keyByteOrder(const SetDef& s) {
  if (s.key.size() > 1) return 0;
  return s.key[0] == KeyType::IfName ? 1 : 2;
}

// A single-part key is as long as its type (as nft makes it: an ether_addr
// set has 6-byte keys); each part of a concatenation is padded to 4.
size_t keyBytes(const SetDef& s) {
  if (s.key.size() == 1) return policy::keyLength(s.key[0]);
  size_t n = 0;
  for (KeyType t : s.key) n += paddedLength(t);
  return n;
}

// The plan stores each key part unpadded; the kernel wants each part in its own
// 4-byte-aligned register slot. The layout is worked out once per set.
class KeyPadding {
 public:
  explicit KeyPadding(const SetDef& s) : set_(s.name), padded_(keyBytes(s)) {
    for (KeyType t : s.key) {
      parts_.push_back({policy::keyLength(t), paddedLength(t)});
      raw_ += parts_.back().first;
    }
    if (s.key.size() == 1) parts_ = {{raw_, raw_}};  // a single part is as long as its type
  }
  // The key of `raw` as the kernel wants it, in `out` (room for 80 bytes); its length.
  size_t pad(std::span<const uint8_t> raw, uint8_t* out) const {
    if (raw.size() != raw_) {
      throw std::logic_error("element of set " + set_ + " has a " + std::to_string(raw.size()) +
                             "-byte key, expected " + std::to_string(raw_));
    }
    std::memset(out, 0, padded_);
    size_t from = 0, to = 0;
    for (const auto& [len, slot] : parts_) {
      std::memcpy(out + to, raw.data() + from, len);
      from += len;
      to += slot;
    }
    return padded_;
  }

 private:
  std::string set_;
  size_t raw_ = 0, padded_ = 0;
  std::vector<std::pair<size_t, size_t>> parts_;  // each part's length and slot
};

template <typename Ptr, typename Alloc>
Ptr alloc(Alloc f) {
  Ptr p(f());
  if (!p) throw std::bad_alloc();
  return p;
}

std::string familyName(const Batch& b) {
  return b.family() == NFPROTO_BRIDGE ? "table bridge " : "table inet ";
}

// Without flags, NEWTABLE on an existing table changes nothing.
void addTable(Batch& b, const std::string& name, std::optional<uint32_t> flags) {
  auto t = alloc<TablePtr>(nftnl_table_alloc);
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, b.family());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  if (flags) nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, *flags);
  nlmsghdr* m = b.start(NFT_MSG_NEWTABLE, NLM_F_CREATE, familyName(b) + name);
  nftnl_table_nlmsg_build_payload(m, t.get());
  b.commit(m);
}

void deleteTable(Batch& b, const std::string& name) {
  auto t = alloc<TablePtr>(nftnl_table_alloc);
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, b.family());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  nlmsghdr* m = b.start(NFT_MSG_DELTABLE, 0, "delete " + familyName(b) + name);
  nftnl_table_nlmsg_build_payload(m, t.get());
  b.commit(m);
}

void addSet(Batch& b, const std::string& table, const SetDef& s, uint32_t id) {
  auto set = alloc<SetPtr>(nftnl_set_alloc);
  nftnl_set_set_u32(set.get(), NFTNL_SET_FAMILY, b.family());
  nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(set.get(), NFTNL_SET_NAME, s.name.c_str());
  nftnl_set_set_u32(set.get(), NFTNL_SET_ID, id);
  uint32_t flags = 0;
  if (s.interval) flags |= NFT_SET_INTERVAL;
  if (s.timeout) flags |= NFT_SET_TIMEOUT;
  if (s.interval && s.key.size() > 1) flags |= NFT_SET_CONCAT;
  if (s.data == KeyType::LimitObject) flags |= NFT_SET_OBJECT;
  if (s.data == KeyType::Verdict) flags |= NFT_SET_MAP;
  if (s.dynamic) flags |= NFT_SET_EVAL;
  nftnl_set_set_u32(set.get(), NFTNL_SET_FLAGS, flags);
  if (s.size) nftnl_set_set_u32(set.get(), NFTNL_SET_DESC_SIZE, s.size);
  if (s.timeoutMs) nftnl_set_set_u64(set.get(), NFTNL_SET_TIMEOUT, s.timeoutMs);
  nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_TYPE, kernelKeyType(s.key));
  nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_LEN, static_cast<uint32_t>(keyBytes(s)));
  if (s.data == KeyType::LimitObject)
    nftnl_set_set_u32(set.get(), NFTNL_SET_OBJ_TYPE, NFT_OBJECT_LIMIT);
  if (s.data == KeyType::Verdict)
    nftnl_set_set_u32(set.get(), NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
  if (flags & NFT_SET_CONCAT) {
    uint8_t fields[NFT_REG32_COUNT] = {};
    for (size_t i = 0; i < s.key.size(); ++i)
      fields[i] = static_cast<uint8_t>(policy::keyLength(s.key[i]));
    nftnl_set_set_data(set.get(), NFTNL_SET_DESC_CONCAT, fields,
                       static_cast<uint32_t>(s.key.size()));
  }
  if (s.counters) {
    // One stateful expression: the kernel gives every element its own copy.
    nftnl_expr* counter = nftnl_expr_alloc("counter");
    if (!counter) throw std::bad_alloc();
    nftnl_set_set_data(set.get(), NFTNL_SET_EXPR, counter, 0);  // the set owns it now
  }
  UdataPtr u(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
  nftnl_udata_put_u32(u.get(), NFTNL_UDATA_SET_KEYBYTEORDER, keyByteOrder(s));
  nftnl_udata_put_strz(u.get(), NFTNL_UDATA_SET_COMMENT, s.comment.c_str());
  nftnl_set_set_data(set.get(), NFTNL_SET_USERDATA, nftnl_udata_buf_data(u.get()),
                     nftnl_udata_buf_len(u.get()));
  nlmsghdr* m = b.start(NFT_MSG_NEWSET, NLM_F_CREATE, "set " + s.name);
  nftnl_set_nlmsg_build_payload(m, set.get());
  b.commit(m);
}

std::string describeElements(const SetDef& s, std::span<const ElementRef> elements, size_t from,
                             size_t to, const char* verb) {
  // The first three origins in order, and whether there are more: the four
  // smallest distinct comments are all it takes (no copy of the others).
  std::vector<std::string_view> origins;
  for (size_t i = from; i < to; ++i) {
    std::string_view o = (*elements[i]).comment;
    if (origins.size() == 4 && !(o < origins.back())) continue;
    auto at = std::lower_bound(origins.begin(), origins.end(), o);
    if (at != origins.end() && *at == o) continue;
    origins.insert(at, o);
    if (origins.size() > 4) origins.pop_back();
  }
  std::string what =
      std::string(verb) + " " + std::to_string(to - from) + " elements of set " + s.name + " (";
  for (size_t shown = 0; shown < origins.size(); ++shown) {
    if (shown == 3) {
      what += ", ...";
      break;
    }
    what += (shown > 0 ? ", " : "") + std::string(origins[shown]);
  }
  return what + ")";
}

// "goto CHAIN" / "jump CHAIN" as element data of a verdict map.
void putVerdictData(nlmsghdr* m, std::string_view data) {
  size_t space = data.find(' ');
  std::string_view kind = data.substr(0, space);
  std::string chain(data.substr(space + 1));
  nlattr* d = mnl_attr_nest_start(m, NFTA_SET_ELEM_DATA);
  nlattr* v = mnl_attr_nest_start(m, NFTA_DATA_VERDICT);
  mnl_attr_put_u32(m, NFTA_VERDICT_CODE,
                   htobe32(static_cast<uint32_t>(kind == "goto" ? NFT_GOTO : NFT_JUMP)));
  mnl_attr_put_strz(m, NFTA_VERDICT_CHAIN, chain.c_str());
  mnl_attr_nest_end(m, v);
  mnl_attr_nest_end(m, d);
}

// Element lists, encoded with libmnl directly: one message per ~48 KiB.
void elementMessages(Batch& b, const std::string& table, const SetDef& s,
                     std::span<const ElementRef> elements, bool add) {
  constexpr size_t kPayloadBudget = 48 * 1024;
  constexpr size_t kAhead = 8;
  KeyPadding padding(s);
  uint8_t key[policy::KeyBytes::kCapacity * 2];
  size_t i = 0;
  while (i < elements.size()) {
    size_t first = i;
    nlmsghdr* m =
        b.start(add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, add ? NLM_F_CREATE : 0, {});
    mnl_attr_put_strz(m, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
    mnl_attr_put_strz(m, NFTA_SET_ELEM_LIST_SET, s.name.c_str());
    nlattr* list = mnl_attr_nest_start(m, NFTA_SET_ELEM_LIST_ELEMENTS);
    for (; i < elements.size() && m->nlmsg_len < kPayloadBudget; ++i) {
      // The elements of a set lie device by device, far apart: fetched ahead.
      if (i + kAhead < elements.size()) elements[i + kAhead].prefetch();
      if (i + kAhead / 2 < elements.size()) elements[i + kAhead / 2].prefetchTexts();
      ElementView e = *elements[i];
      nlattr* item = mnl_attr_nest_start(m, NFTA_LIST_ELEM);
      nlattr* k = mnl_attr_nest_start(m, NFTA_SET_ELEM_KEY);
      mnl_attr_put(m, NFTA_DATA_VALUE, padding.pad(e.low, key), key);
      mnl_attr_nest_end(m, k);
      if (!e.high.empty()) {
        nlattr* ke = mnl_attr_nest_start(m, NFTA_SET_ELEM_KEY_END);
        mnl_attr_put(m, NFTA_DATA_VALUE, padding.pad(e.high, key), key);
        mnl_attr_nest_end(m, ke);
      }
      if (add && s.data == KeyType::LimitObject)
        mnl_attr_put_strz(m, NFTA_SET_ELEM_OBJREF, e.data.str().c_str());
      if (add && s.data == KeyType::Verdict) putVerdictData(m, e.data);
      if (add && e.timeoutMs) mnl_attr_put_u64(m, NFTA_SET_ELEM_TIMEOUT, htobe64(e.timeoutMs));
      if (add && !e.comment.empty()) {
        // NFTNL_UDATA_SET_ELEM_COMMENT TLV: type, length, NUL-terminated text.
        uint8_t udata[2 + 255];
        size_t len = std::min<size_t>(e.comment.size(), 254);
        udata[0] = NFTNL_UDATA_SET_ELEM_COMMENT;
        udata[1] = static_cast<uint8_t>(len + 1);
        std::memcpy(udata + 2, e.comment.data(), len);
        udata[2 + len] = 0;
        mnl_attr_put(m, NFTA_SET_ELEM_USERDATA, len + 3, udata);
      }
      mnl_attr_nest_end(m, item);
    }
    mnl_attr_nest_end(m, list);
    b.commit(m);
    // Described after the fact, now that we know which elements went in.
    b.redescribeLast(describeElements(s, elements, first, i, add ? "add" : "delete"));
  }
}

void limitObject(Batch& b, const std::string& table, const policy::LimitObject& l, bool add) {
  auto o = alloc<ObjPtr>(nftnl_obj_alloc);
  nftnl_obj_set_u32(o.get(), NFTNL_OBJ_FAMILY, b.family());
  nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, table.c_str());
  nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, l.name.c_str());
  nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_LIMIT);
  if (add) {
    nftnl_obj_set_u64(o.get(), NFTNL_OBJ_LIMIT_RATE, l.perSecond);
    nftnl_obj_set_u64(o.get(), NFTNL_OBJ_LIMIT_UNIT, 1);
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_LIMIT_BURST, l.burst);
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_LIMIT_TYPE, NFT_LIMIT_PKTS);
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_LIMIT_FLAGS, NFT_LIMIT_F_INV);
  }
  nlmsghdr* m = b.start(
      add ? NFT_MSG_NEWOBJ : NFT_MSG_DELOBJ, add ? NLM_F_CREATE : 0,
      std::string(add ? "limit " : "delete limit ") + l.name + " (device " + l.device + ")");
  nftnl_obj_nlmsg_build_payload(m, o.get());
  b.commit(m);
}

uint32_t hookNumber(const std::string& hook) {
  if (hook == "input") return NF_INET_LOCAL_IN;
  if (hook == "output") return NF_INET_LOCAL_OUT;
  if (hook == "prerouting") return NF_INET_PRE_ROUTING;
  if (hook == "postrouting") return NF_INET_POST_ROUTING;
  return NF_INET_FORWARD;
}

void chainMessage(Batch& b, const std::string& table, const policy::Chain& c, uint16_t type) {
  auto ch = alloc<ChainPtr>(nftnl_chain_alloc);
  nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_FAMILY, b.family());
  nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_NAME, c.name.c_str());
  if (type == NFT_MSG_NEWCHAIN && c.base) {
    nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_HOOKNUM, hookNumber(c.base->hook));
    nftnl_chain_set_s32(ch.get(), NFTNL_CHAIN_PRIO, c.base->priority);
    nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TYPE, "filter");
    nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_POLICY,
                        c.base->acceptByDefault ? NF_ACCEPT : NF_DROP);
  }
  const char* verb = type == NFT_MSG_NEWCHAIN ? "chain " : "flush chain ";
  nlmsghdr* m = b.start(type, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0, verb + c.name);
  nftnl_chain_nlmsg_build_payload(m, ch.get());
  b.commit(m);
}

void flushChainRules(Batch& b, const std::string& table, const policy::Chain& c) {
  auto r = alloc<RulePtr>(nftnl_rule_alloc);
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, b.family());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, c.name.c_str());
  nlmsghdr* m = b.start(NFT_MSG_DELRULE, 0, "flush chain " + c.name);
  nftnl_rule_nlmsg_build_payload(m, r.get());
  b.commit(m);
}

void addRules(Batch& b, const std::string& table, const policy::Chain& c) {
  for (size_t i = 0; i < c.rules.size(); ++i) {
    RulePtr r = buildRule(b.family(), table, c.name, c.rules[i]);
    nlmsghdr* m = b.start(
        NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
        "rule " + std::to_string(i + 1) + " of chain " + c.name + " (" + c.rules[i].comment + ")");
    nftnl_rule_nlmsg_build_payload(m, r.get());
    b.commit(m);
  }
}

}  // namespace

uint32_t kernelKeyType(const std::vector<KeyType>& key) {
  uint32_t type = 0;
  for (KeyType t : key) type = (type << 6) | datatypeNumber(t);
  return type;
}

void encodeDeleteTable(Batch& batch, const std::string& table, bool bridgeToo) {
  deleteTable(batch, table);
  if (!bridgeToo) return;
  batch.setFamily(NFPROTO_BRIDGE);
  deleteTable(batch, table);
  batch.setFamily(NFPROTO_INET);
}

namespace {

bool twoThreads(size_t elements, size_t from) { return elements >= std::max<size_t>(from, 2); }

// Every element of the plan. Many are encoded on two cores: the second half
// (by count, cut anywhere in a set) into a fragment on another thread,
// appended once both halves are done (as a piece of the batch, not
// copied). The kernel sees the same messages in the same order either way,
// but for where a message ends.
void addAllElements(Batch& b, const Plan& plan, size_t twoThreadsFrom, size_t listedAtOnce) {
  std::vector<size_t> sizes = plan.setSizes();
  size_t total = 0;
  for (size_t n : sizes) total += n;
  // The elements [from, to) of the whole, in set order. The sets are listed
  // a group at a time, each group in one pass over the devices: about a
  // sixteenth of all the elements, at least `listedAtOnce` (or one set). The
  // references are 16 bytes an element, 35 MB for all at 100,000 devices;
  // a pass costs a look at every device.
  const size_t group = std::max<size_t>({total / 16, listedAtOnce, 1});
  auto encode = [&](Batch& into, size_t from, size_t to) {
    size_t at = 0;
    for (size_t first = 0; first < sizes.size() && at < to;) {
      size_t last = first, groupAt = at, listed = 0;
      while (last < sizes.size() && (last == first || listed + sizes[last] <= group)) {
        listed += sizes[last++];
      }
      at += listed;
      if (at <= from) {
        first = last;
        continue;
      }
      std::vector<std::vector<ElementRef>> lists = plan.setElements(first, last);
      for (size_t i = first, setAt = groupAt; i < last; setAt += sizes[i], ++i) {
        size_t begin = std::max(from, setAt), end = std::min(to, setAt + sizes[i]);
        if (begin >= end) continue;
        elementMessages(into, plan.table, plan.sets[i],
                        std::span(lists[i - first]).subspan(begin - setAt, end - begin), true);
      }
      first = last;
    }
  };
  if (!twoThreads(total, twoThreadsFrom)) {
    encode(b, 0, total);
    return;
  }
  size_t half = total / 2;
  Batch second = Batch::fragment(b.family());
  second.expect((total - half) * 64);
  std::exception_ptr failed;
  auto secondHalf = [&] {
    try {
      encode(second, half, total);
    } catch (...) {
      failed = std::current_exception();
    }
  };
  {
    std::optional<std::jthread> helper;
    try {
      helper.emplace(secondHalf);
    } catch (const std::system_error&) {  // no thread to be had: both halves here
      secondHalf();
    }
    encode(b, 0, half);
  }
  if (failed) std::rethrow_exception(failed);
  b.append(std::move(second));
}

void encodeTable(Batch& b, const Plan& plan, const FullApply& how) {
  if (how.replaceExisting) {
    // Create-then-delete-then-create: the first NEWTABLE makes the DELTABLE safe
    // even if the table vanished since we looked; the transaction is atomic.
    addTable(b, plan.table, std::nullopt);
    deleteTable(b, plan.table);
  }
  addTable(b, plan.table, how.tableFlags);
  for (const policy::LimitObject* l : plan.allLimits()) limitObject(b, plan.table, *l, true);
  uint32_t id = 1;
  for (const SetDef& s : plan.sets) addSet(b, plan.table, s, id++);
  // Chains before elements: verdict map elements name the chains they go to.
  for (const policy::Chain& c : plan.chains) chainMessage(b, plan.table, c, NFT_MSG_NEWCHAIN);
  addAllElements(b, plan, how.twoThreadsFrom, how.listedAtOnce);
  for (const policy::Chain& c : plan.chains) addRules(b, plan.table, c);
}

// The bridge table of our name is rebuilt whole, or removed when the plan
// has none and there is one (a switch from the bridge topology to the routed
// one). A routed plan otherwise sends nothing of the bridge family, so it
// needs no kernel support for it.
void encodeCompanions(Batch& b, const Plan& plan, uint32_t tableFlags, bool removeStale) {
  b.setFamily(NFPROTO_BRIDGE);
  bool have = false;
  for (const Plan& c : plan.companions) {
    if (c.family != policy::TableFamily::Bridge) continue;
    encodeTable(b, c, {true, tableFlags});
    have = true;
  }
  if (!have && removeStale) {
    addTable(b, plan.table, std::nullopt);
    deleteTable(b, plan.table);
  }
  b.setFamily(NFPROTO_INET);
}

}  // namespace

void encodeFullApply(Batch& b, const Plan& plan, const FullApply& how) {
  // About 60 bytes an element, beside the rules and the sets: room made
  // once, for the first half of the elements when the other core encodes
  // the second into a buffer of its own.
  size_t elements = plan.elementCount();
  if (twoThreads(elements, how.twoThreadsFrom)) elements /= 2;
  b.expect(elements * 64 + (size_t{1} << 20));
  encodeTable(b, plan, how);
  encodeCompanions(b, plan, how.tableFlags, how.bridgeTableExists);
}

void encodeDiff(Batch& b, const Plan& running, const Plan& next, const policy::PlanDiff& diff,
                uint32_t tableFlags) {
  (void)running;
  const std::string& table = next.table;
  for (const policy::SetChange& c : diff.sets) {
    if (!c.removed.empty()) elementMessages(b, table, *next.findSet(c.set), c.removed, false);
  }
  for (const policy::LimitObject* l : diff.limitsRemoved) limitObject(b, table, *l, false);
  for (const policy::LimitObject* l : diff.limitsAdded) limitObject(b, table, *l, true);
  for (const policy::SetChange& c : diff.sets) {
    if (!c.added.empty()) elementMessages(b, table, *next.findSet(c.set), c.added, true);
  }
  for (const policy::Chain* c : diff.chainsRewritten) {
    flushChainRules(b, table, *c);
    addRules(b, table, *c);
  }
  // Changed: the running plan had a bridge table, or the next one has.
  if (diff.companionsChanged) encodeCompanions(b, next, tableFlags, true);
}

}  // namespace ringfence::netlink
