// Peer x port boxes made disjoint. The kernel's concatenated interval sets
// refuse overlapping elements, while admins' rules overlap freely (a /24 on
// 443 and a host inside it on 8000-8010); this turns any set of boxes into an
// equivalent set with no overlap.
#pragma once

#include <string>
#include <vector>

#include "policy/model.h"
#include "policy/shared_text.h"

namespace ringfence::policy {

struct PeerPortBox {
  IpPrefix peer;
  PortRange ports;
  SharedText origin;  // the rule behind it, "file.yaml:12"
  bool operator==(const PeerPortBox&) const = default;
};

// Boxes of one address family. The result covers exactly the union of the
// input, no two boxes overlap, and it is ordered by peer then port.
std::vector<PeerPortBox> disjointBoxes(const std::vector<PeerPortBox>& boxes);

// disjointBoxes(boxes).size(), without building the boxes (for size limits).
size_t disjointBoxCount(const std::vector<PeerPortBox>& boxes);

// Sorted, with overlapping and adjacent ranges merged.
std::vector<PortRange> mergeRanges(std::vector<PortRange> ranges);

}  // namespace ringfence::policy
