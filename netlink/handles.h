// RAII for libnftnl and libmnl handles: every C handle has an owner.
#pragma once

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include <memory>

namespace ringfence::netlink {

struct MnlSocketCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
struct TableFree {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};
struct ChainFree {
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
};
struct RuleFree {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
struct SetFree {
  void operator()(nftnl_set* s) const { nftnl_set_free(s); }
};
struct ObjFree {
  void operator()(nftnl_obj* o) const { nftnl_obj_free(o); }
};
struct ExprFree {
  void operator()(nftnl_expr* e) const { nftnl_expr_free(e); }
};
struct UdataFree {
  void operator()(nftnl_udata_buf* u) const { nftnl_udata_buf_free(u); }
};

// libmnl's attribute iteration macros do not compile as C++; these do the same.
template <typename F>
void forEachAttr(const void* begin, const void* end, F&& f) {
  const auto* a = static_cast<const nlattr*>(begin);
  while (mnl_attr_ok(
      a, static_cast<int>(static_cast<const char*>(end) - reinterpret_cast<const char*>(a)))) {
    f(a);
    a = mnl_attr_next(a);
  }
}
template <typename F>
void forEachNested(const nlattr* nest, F&& f) {
  forEachAttr(mnl_attr_get_payload(nest), reinterpret_cast<const char*>(nest) + nest->nla_len, f);
}
// Ends at nlmsg_len itself, not at libmnl's aligned tail, which can lie past
// the buffer of a message whose length is not a multiple of 4.
template <typename F>
void forEachInMessage(const nlmsghdr* nlh, size_t offset, F&& f) {
  forEachAttr(mnl_nlmsg_get_payload_offset(nlh, offset),
              reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len, f);
}

using MnlSocketPtr = std::unique_ptr<mnl_socket, MnlSocketCloser>;
using TablePtr = std::unique_ptr<nftnl_table, TableFree>;
using ChainPtr = std::unique_ptr<nftnl_chain, ChainFree>;
using RulePtr = std::unique_ptr<nftnl_rule, RuleFree>;
using SetPtr = std::unique_ptr<nftnl_set, SetFree>;
using ObjPtr = std::unique_ptr<nftnl_obj, ObjFree>;
using ExprPtr = std::unique_ptr<nftnl_expr, ExprFree>;
using UdataPtr = std::unique_ptr<nftnl_udata_buf, UdataFree>;

}  // namespace ringfence::netlink
