// Who claims each device name, address and MAC, kept from one load to the
// next so that a reload looks only at the devices that changed
// (docs/policy-loading.md, "Reloading what changed"). It answers one
// question: does any name, address or MAC have two claims? When it does, the
// loader finds and reports the conflicts with a pass over every device in
// load order, exactly as without the index.
#pragma once

#include <string_view>
#include <unordered_map>

#include "policy/model.h"
#include "policy/net_types.h"

namespace ringfence::policy {

class ClaimIndex {
 public:
  // Makes the index that of `devices` (sorted by name), changing only the
  // entries of the devices that are not the very objects it was made of.
  // False if a name, address or MAC has two claims; the index is then empty,
  // and the next update starts from nothing.
  bool update(const DeviceList& devices);
  void clear();

 private:
  bool add(const Device& d);
  void remove(const Device& d);

  DeviceList indexed_;  // what the entries are of (the names are views into it)
  std::unordered_map<std::string_view, const Device*> names_;
  std::unordered_map<IpAddress, const Device*, AddressHash> addresses_;
  std::unordered_map<MacAddress, const Device*, AddressHash> macs_;
};

}  // namespace ringfence::policy
