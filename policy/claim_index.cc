#include "policy/claim_index.h"

#include <vector>

namespace ringfence::policy {
namespace {

template <typename Map, typename Key>
void eraseIfOwner(Map& map, const Key& key, const Device* owner) {
  if (auto it = map.find(key); it != map.end() && it->second == owner) map.erase(it);
}

}  // namespace

bool ClaimIndex::add(const Device& d) {
  if (!names_.try_emplace(d.name, &d).second) return false;
  for (const IpAddress& a : d.addresses) {
    if (!addresses_.try_emplace(a, &d).second) return false;
  }
  return !d.mac || macs_.try_emplace(*d.mac, &d).second;
}

void ClaimIndex::remove(const Device& d) {
  eraseIfOwner(names_, std::string_view(d.name), &d);
  for (const IpAddress& a : d.addresses) eraseIfOwner(addresses_, a, &d);
  if (d.mac) eraseIfOwner(macs_, *d.mac, &d);
}

bool ClaimIndex::update(const DeviceList& devices) {
  try {
    std::vector<const Device*> fresh;
    // Every entry of a device that left or changed goes before any new one
    // comes: an address may move from one device to another.
    forEachChangedDevice(indexed_, devices, [&](const Device* old, const Device* now) {
      if (old) remove(*old);
      if (now) fresh.push_back(now);
    });
    if (indexed_.empty()) {
      names_.reserve(devices.size());
      addresses_.reserve(devices.size() * 2);
      macs_.reserve(devices.size());
    }
    for (const Device* d : fresh) {
      if (!add(*d)) {
        clear();
        return false;
      }
    }
    indexed_ = devices;
    return true;
  } catch (...) {
    clear();
    throw;
  }
}

void ClaimIndex::clear() {
  names_.clear();
  addresses_.clear();
  macs_.clear();
  indexed_.clear();
}

}  // namespace ringfence::policy
