#include "policy/plan.h"

#include <algorithm>

namespace ringfence::policy {

size_t keyLength(KeyType t) {
  switch (t) {
    case KeyType::Ipv4Addr:
      return 4;
    case KeyType::Ipv6Addr:
      return 16;
    case KeyType::InetProto:
      return 1;
    case KeyType::InetService:
      return 2;
    case KeyType::EtherAddr:
      return 6;
    case KeyType::IfName:
      return 16;
    case KeyType::LimitObject:
    case KeyType::Verdict:
      return 0;
  }
  return 0;
}

const char* nftTypeName(KeyType t) {
  switch (t) {
    case KeyType::Ipv4Addr:
      return "ipv4_addr";
    case KeyType::Ipv6Addr:
      return "ipv6_addr";
    case KeyType::InetProto:
      return "inet_proto";
    case KeyType::InetService:
      return "inet_service";
    case KeyType::EtherAddr:
      return "ether_addr";
    case KeyType::IfName:
      return "ifname";
    case KeyType::LimitObject:
      return "limit";
    case KeyType::Verdict:
      return "verdict";
  }
  return "?";
}

KeyType fieldType(Field f) {
  switch (f) {
    case Field::IpSaddr:
    case Field::IpDaddr:
    case Field::CtOrigIpSaddr:
    case Field::CtReplyIpSaddr:
      return KeyType::Ipv4Addr;
    case Field::Ip6Saddr:
    case Field::Ip6Daddr:
    case Field::CtOrigIp6Saddr:
    case Field::CtReplyIp6Saddr:
      return KeyType::Ipv6Addr;
    case Field::L4Proto:
      return KeyType::InetProto;
    case Field::ThDport:
    case Field::ThSport:
      return KeyType::InetService;
    case Field::EtherSaddr:
    case Field::ArpSaddrEther:
      return KeyType::EtherAddr;
    case Field::ArpSaddrIp:
      return KeyType::Ipv4Addr;
    case Field::NdTarget:
      return KeyType::Ipv6Addr;
    case Field::Iifname:
    case Field::Oifname:
      return KeyType::IfName;
  }
  return KeyType::Ipv4Addr;
}

const char* nftFieldText(Field f) {
  switch (f) {
    case Field::IpSaddr:
      return "ip saddr";
    case Field::IpDaddr:
      return "ip daddr";
    case Field::Ip6Saddr:
      return "ip6 saddr";
    case Field::Ip6Daddr:
      return "ip6 daddr";
    case Field::L4Proto:
      return "meta l4proto";
    case Field::ThDport:
      return "th dport";
    case Field::ThSport:
      return "th sport";
    case Field::EtherSaddr:
      return "ether saddr";
    case Field::Iifname:
      return "iifname";
    case Field::Oifname:
      return "oifname";
    case Field::CtOrigIpSaddr:
      return "ct original ip saddr";
    case Field::CtReplyIpSaddr:
      return "ct reply ip saddr";
    case Field::CtOrigIp6Saddr:
      return "ct original ip6 saddr";
    case Field::CtReplyIp6Saddr:
      return "ct reply ip6 saddr";
    case Field::ArpSaddrIp:
      return "arp saddr ip";
    case Field::ArpSaddrEther:
      return "arp saddr ether";
    case Field::NdTarget:
      return "@th,64,128";
  }
  return "?";
}

SetDef udpPortSet(std::string name, std::string comment,
                  const std::vector<std::pair<uint16_t, std::string>>& ports) {
  SetDef s;
  s.name = std::move(name);
  s.key = {KeyType::InetProto, KeyType::InetService};
  s.comment = std::move(comment);
  for (const auto& [port, what] : ports) {
    SetElement e;
    e.low = {17, static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port & 0xff)};
    e.comment = what;
    s.elements.push_back(std::move(e));
  }
  return s;
}

unsigned rangeShard(std::string_view device) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across runs and builds
  for (char c : device) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return h % kRangeShards;
}

uint32_t isolatedSetSize(size_t addresses) {
  uint32_t size = 65536;
  while (size < (1u << 22) && size < 2 * addresses + 4096) size *= 4;
  return size;
}

const SetDef* Plan::findSet(std::string_view name) const {
  auto it = std::find_if(sets.begin(), sets.end(), [&](const SetDef& s) { return s.name == name; });
  return it == sets.end() ? nullptr : &*it;
}

void Plan::addElements(const std::vector<std::pair<std::string, SetElement>>& elements) {
  for (const auto& [name, e] : elements) {
    for (SetDef& s : sets) {
      if (s.name == name) s.elements.push_back(e);
    }
  }
}

void Plan::removeElements(const std::vector<std::pair<std::string, SetElement>>& elements) {
  for (const auto& [name, e] : elements) {
    for (SetDef& s : sets) {
      if (s.name != name) continue;
      std::erase_if(s.elements,
                    [&](const SetElement& x) { return x.low == e.low && x.high == e.high; });
    }
  }
}

std::vector<size_t> Plan::setSizes() const {
  std::vector<size_t> sizes(sets.size());
  for (size_t i = 0; i < sets.size(); ++i) sizes[i] = sets[i].elements.size();
  for (const DeviceElements& d : devices) {
    for (const ElementSlice& slice : d.slices) sizes.at(slice.set) += slice.end - slice.begin;
  }
  return sizes;
}

std::vector<std::vector<ElementRef>> Plan::setElements(size_t first, size_t last) const {
  std::vector<std::vector<ElementRef>> out(last - first);
  for (size_t i = first; i < last; ++i) {
    for (const SetElement& e : sets.at(i).elements) out[i - first].push_back(&e);
  }
  // The parts lie apart: each fetched ahead, then its slices and offsets.
  constexpr size_t kAhead = 8;
  for (size_t k = 0; k < devices.size(); ++k) {
    if (k + kAhead < devices.size()) __builtin_prefetch(&devices[k + kAhead]);
    if (k + kAhead / 2 < devices.size()) {
      const DeviceElements& next = devices[k + kAhead / 2];
      __builtin_prefetch(next.slices.data());
      next.elements.prefetch();
    }
    const DeviceElements& d = devices[k];
    for (const ElementSlice& slice : d.slices) {
      if (slice.set < first || slice.set >= last) continue;
      for (uint32_t e = slice.begin; e < slice.end; ++e)
        out[slice.set - first].emplace_back(&d.elements, e);
    }
  }
  return out;
}

std::vector<ElementRef> Plan::setElements(size_t index) const {
  std::vector<ElementRef> out;
  for (const SetElement& e : sets.at(index).elements) out.push_back(&e);
  for (const DeviceElements& d : devices) {
    // A part's slices are in set order, each set once.
    auto slice = std::lower_bound(d.slices.begin(), d.slices.end(), index,
                                  [](const ElementSlice& s, size_t i) { return s.set < i; });
    if (slice == d.slices.end() || slice->set != index) continue;
    for (uint32_t e = slice->begin; e < slice->end; ++e) out.emplace_back(&d.elements, e);
  }
  return out;
}

SetDef Plan::wholeSet(size_t index) const {
  SetDef out = sets.at(index);
  for (const DeviceElements& d : devices) {
    for (const ElementSlice& slice : d.slices) {
      if (slice.set != index) continue;
      for (uint32_t e = slice.begin; e < slice.end; ++e)
        out.elements.push_back(d.elements[e].copy());
    }
  }
  return out;
}

std::vector<const LimitObject*> Plan::allLimits() const {
  std::vector<const LimitObject*> out;
  for (const LimitObject& l : limits) out.push_back(&l);
  for (const DeviceElements& d : devices) {
    if (d.limit) out.push_back(&*d.limit);
  }
  return out;
}

const DeviceElements* Plan::findDevice(std::string_view name) const {
  auto it =
      std::lower_bound(devices.begin(), devices.end(), name,
                       [](const DeviceElements& d, std::string_view n) { return d.device < n; });
  return (it != devices.end() && it->device == name) ? &*it : nullptr;
}

size_t Plan::elementCount() const {
  size_t n = 0;
  for (const SetDef& s : sets) n += s.elements.size();
  for (const DeviceElements& d : devices) n += d.elements.size();
  return n;
}

}  // namespace ringfence::policy
