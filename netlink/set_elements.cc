#include "netlink/set_elements.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "netlink/handles.h"

namespace ringfence::netlink {
namespace {

int takeCounter(nftnl_expr* e, void* data) {
  const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  if (name && std::strcmp(name, "counter") == 0) {
    auto* c = static_cast<KernelElement*>(data);
    c->packets += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
    c->bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
  }
  return 0;
}

// The NFTNL_UDATA_SET_ELEM_COMMENT TLV of the element's userdata: type,
// length, NUL-terminated text (as the encoder writes it, and nft too).
std::string commentOf(nftnl_set_elem* e) {
  uint32_t len = 0;
  const auto* u = static_cast<const uint8_t*>(nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len));
  for (uint32_t i = 0; u && i + 2 <= len;) {
    uint8_t type = u[i], size = u[i + 1];
    if (i + 2 + size > len) break;
    if (type == NFTNL_UDATA_SET_ELEM_COMMENT && size > 0) {
      const char* text = reinterpret_cast<const char*>(u + i + 2);
      return std::string(text, strnlen(text, size));
    }
    i += 2u + size;
  }
  return {};
}

int takeElement(nftnl_set_elem* e, void* data) {
  uint32_t len = 0;
  const auto* key = static_cast<const uint8_t*>(nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len));
  if (!key) return 0;
  KernelElement c;
  c.key.assign(key, key + len);
  if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
    c.expiresInMs = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
  if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) c.comment = commentOf(e);
  nftnl_set_elem_expr_foreach(e, takeCounter, &c);
  static_cast<std::vector<KernelElement>*>(data)->push_back(std::move(c));
  return 0;
}

}  // namespace

std::expected<std::vector<KernelElement>, KernelError> readSetElements(NftSocket& socket,
                                                                       const std::string& table,
                                                                       const std::string& set) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* request =
      nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, 0);
  SetPtr query(nftnl_set_alloc());
  if (!query) throw std::bad_alloc();
  nftnl_set_set_str(query.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(query.get(), NFTNL_SET_NAME, set.c_str());
  nftnl_set_elems_nlmsg_build_payload(request, query.get());

  std::vector<KernelElement> out;
  bool malformed = false;
  auto got = socket.dump(
      request,
      [&](const nlmsghdr* m) {
        SetPtr part(nftnl_set_alloc());
        if (!part) throw std::bad_alloc();
        if (nftnl_set_elems_nlmsg_parse(m, part.get()) < 0) {
          malformed = true;
          return;
        }
        nftnl_set_elem_foreach(part.get(), takeElement, &out);
      },
      "read elements of set " + set);
  if (!got) return std::unexpected(got.error());
  if (malformed) return std::unexpected(KernelError{EBADMSG, "read elements of set " + set, {}});
  return out;
}

std::vector<AddressElement> readAddressSets(
    NftSocket& socket, const std::string& table, const std::string& set4, const std::string& set6,
    const std::function<void(const std::string& set, const KernelError& error)>& failed) {
  std::vector<AddressElement> out;
  for (policy::Family family : {policy::Family::V4, policy::Family::V6}) {
    const std::string& set = family == policy::Family::V4 ? set4 : set6;
    auto elements = readSetElements(socket, table, set);
    if (!elements && elements.error().error != ENOENT)
      elements = readSetElements(socket, table, set);  // once more
    if (!elements) {
      if (elements.error().error != ENOENT) failed(set, elements.error());
      continue;
    }
    for (KernelElement& e : *elements) {
      policy::IpAddress a{family, {}};
      if (e.key.size() < a.size()) continue;
      std::copy_n(e.key.begin(), a.size(), a.bytes.begin());
      out.push_back({a, std::move(e)});
    }
  }
  return out;
}

}  // namespace ringfence::netlink
