#include "policy/boxes.h"

#include <algorithm>
#include <map>

namespace ringfence::policy {
namespace {

struct Node {
  IpPrefix prefix;
  std::vector<PortRange> ports;  // every port allowed for addresses in this prefix
  SharedText origin;
  std::vector<IpPrefix> children;
};

IpPrefix half(const IpPrefix& p, int bit) {
  IpPrefix h = p;
  h.length = p.length + 1;
  if (bit) h.address.bytes[p.length / 8] |= static_cast<uint8_t>(1u << (7 - p.length % 8));
  return h;
}

// `p` minus the (disjoint, contained) `holes`, as prefixes.
void carve(const IpPrefix& p, const std::vector<IpPrefix>& holes, std::vector<IpPrefix>& out) {
  if (holes.empty()) {
    out.push_back(p);
    return;
  }
  for (const IpPrefix& h : holes) {
    if (h.length == p.length) return;  // the hole is all of p
  }
  for (int bit = 0; bit < 2; ++bit) {
    IpPrefix h = half(p, bit);
    std::vector<IpPrefix> inside;
    for (const IpPrefix& hole : holes) {
      if (h.contains(hole)) inside.push_back(hole);
    }
    carve(h, inside, out);
  }
}

}  // namespace

std::vector<PortRange> mergeRanges(std::vector<PortRange> ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<PortRange> out;
  for (const PortRange& r : ranges) {
    if (!out.empty() && static_cast<uint32_t>(out.back().high) + 1 >= r.low) {
      out.back().high = std::max(out.back().high, r.high);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

namespace {

// The prefixes that add ports to what their ancestors allow, each with every
// port allowed inside it and its kept children.
std::vector<Node> laminarNodes(const std::vector<PeerPortBox>& boxes) {
  // Prefixes form a laminar family (two are nested or disjoint), and sorting
  // by (address, length) visits every ancestor before its descendants.
  std::map<IpPrefix, std::pair<std::vector<PortRange>, SharedText>> byPrefix;
  for (const PeerPortBox& b : boxes) {
    auto& entry = byPrefix[b.peer];
    entry.first.push_back(b.ports);
    if (entry.second.empty()) entry.second = b.origin;
  }
  std::vector<Node> nodes;
  std::vector<size_t> stack;  // kept ancestors of the current prefix
  for (auto& [prefix, own] : byPrefix) {
    while (!stack.empty() && !nodes[stack.back()].prefix.contains(prefix)) stack.pop_back();
    std::vector<PortRange> inherited =
        stack.empty() ? std::vector<PortRange>{} : nodes[stack.back()].ports;
    std::vector<PortRange> all = inherited;
    all.insert(all.end(), own.first.begin(), own.first.end());
    all = mergeRanges(std::move(all));
    if (all == inherited) continue;  // adds nothing to what its ancestor allows
    if (!stack.empty()) nodes[stack.back()].children.push_back(prefix);
    nodes.push_back(Node{prefix, std::move(all), own.second, {}});
    stack.push_back(nodes.size() - 1);
  }
  return nodes;
}

// How many prefixes carve() would produce, without producing them.
size_t carveCount(const IpPrefix& p, const std::vector<IpPrefix>& holes) {
  if (holes.empty()) return 1;
  for (const IpPrefix& h : holes) {
    if (h.length == p.length) return 0;
  }
  size_t n = 0;
  for (int bit = 0; bit < 2; ++bit) {
    IpPrefix h = half(p, bit);
    std::vector<IpPrefix> inside;
    for (const IpPrefix& hole : holes) {
      if (h.contains(hole)) inside.push_back(hole);
    }
    n += carveCount(h, inside);
  }
  return n;
}

}  // namespace

std::vector<PeerPortBox> disjointBoxes(const std::vector<PeerPortBox>& boxes) {
  std::vector<PeerPortBox> out;
  for (const Node& n : laminarNodes(boxes)) {
    std::vector<IpPrefix> pieces;
    carve(n.prefix, n.children, pieces);
    for (const IpPrefix& piece : pieces) {
      for (const PortRange& r : n.ports) out.push_back({piece, r, n.origin});
    }
  }
  std::sort(out.begin(), out.end(), [](const PeerPortBox& a, const PeerPortBox& b) {
    return std::tie(a.peer, a.ports) < std::tie(b.peer, b.ports);
  });
  return out;
}

size_t disjointBoxCount(const std::vector<PeerPortBox>& boxes) {
  size_t n = 0;
  for (const Node& node : laminarNodes(boxes)) {
    n += carveCount(node.prefix, node.children) * node.ports.size();
  }
  return n;
}

}  // namespace ringfence::policy
