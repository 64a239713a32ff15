// Isolations in the kernel table: those an earlier run left (read at start),
// and those the packet path made itself (instant isolation, docs/ruleset.md)
// whose log message the daemon never got.
#include "daemon/containment.h"
#include "daemon/log.h"
#include "netlink/set_elements.h"

namespace ringfence::daemon {

// The addresses in the isolated sets of `table` in the kernel, with their
// comments (none for those the packet path added); a failure is logged.
std::vector<std::pair<policy::IpAddress, std::string>> Containment::readKernelIsolated(
    const std::string& table) const {
  std::vector<std::pair<policy::IpAddress, std::string>> out;
  auto socket = netlink::NftSocket::open();
  if (!socket) {
    log(LogLevel::Error, "netlink-error",
        "cannot read the isolations of the table in the kernel: " + socket.error().message());
    return out;
  }
  auto failed = [&](const std::string& set, const netlink::KernelError& error) {
    // No table (or set) yet is nothing to keep; this is anything else, and loud.
    log(LogLevel::Error, "netlink-error",
        "cannot read the isolated addresses of set " + set + " in table " + table + ": " +
            error.message() + "; an isolation in the kernel that never reached " + store_.path() +
            " may be lost (those saved there stay in force)");
  };
  for (netlink::AddressElement& e : netlink::readAddressSets(
           *socket, table, policy::setname::kIsolated4, policy::setname::kIsolated6, failed))
    out.emplace_back(e.address, std::move(e.element.comment));
  return out;
}

void Containment::restoreFromKernel(const std::string& table) {
  kernelIsolated_ = readKernelIsolated(table);
}

// A device the packet path isolated is isolated by the daemon too (MAC,
// other addresses, live flows cut, saved), as when its log message arrives.
// The kernel isolated it under the policy then in force; an isolation
// outlives a policy change, so it is taken over whatever the device is now.
void Containment::adoptFromKernel(policy::WallTime now) {
  const policy::Plan* running = enforcer_.running();
  if (!judge_ || !running) return;
  std::set<policy::IpAddress> held;
  for (const auto& [device, iso] : judge_->isolations())
    held.insert(iso.addresses.begin(), iso.addresses.end());
  // A release not yet in force in the kernel: its addresses are still there.
  for (const auto& [device, a] : kernelPending_) {
    if (a.kind == policy::ActionKind::Release) held.insert(a.addresses.begin(), a.addresses.end());
  }
  bool orphans = false;
  for (const auto& [address, comment] : readKernelIsolated(running->table)) {
    if (held.contains(address)) continue;
    std::string device = deviceOf(address);
    if (!device.empty() && judge_->isolations().contains(device)) continue;  // followed below
    std::string as = device.empty() ? "an orphan (no device has it now)" : device;
    log(LogLevel::Error, "isolation-found-in-kernel",
        "address " + policy::toString(address) + (device.empty() ? "" : " of " + device) +
            " was isolated by the kernel at a forbidden packet the daemon had not recorded; it "
            "stays isolated as " +
            as + " until released",
        device);
    held.insert(address);
    if (device.empty()) {
      orphans = judge_->adoptKernelAddress(address, comment, now).has_value() || orphans;
      continue;
    }
    auto done =
        isolate(device, "isolated by the kernel at its first forbidden packet", "kernel", now);
    if (!done) {
      log(LogLevel::Error, "apply-failed",
          "cannot complete the isolation of " + device + ": " + done.error(), device);
    }
  }
  if (orphans) save("isolations found in the kernel");
}

void Containment::reportLoss(uint64_t lostBatches) {
  log(LogLevel::Error, "events-lost",
      "the kernel dropped NFLOG messages for us " + std::to_string(lostBatches) +
          " times (receive buffer full); violations in them were not counted; isolations the "
          "kernel made meanwhile are taken over");
  adoptFromKernel(policy::WallClock::now());
}

}  // namespace ringfence::daemon
