// Generates a large, valid configuration for scale tests and benchmarks:
// devices with about five rules each, mixing exact ports, ranges and CIDRs.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace ringfence::test {

// Writes DIR/ringfence.yaml, DIR/groups.yaml and DIR/devices/*.yaml; returns
// the configuration file. Device i has 100.64.(i/256).(i%256) and, for every
// other device, an IPv6 address too.
std::filesystem::path writeGeneratedPolicy(const std::filesystem::path& dir, size_t devices);

// The last device's profile gets one more outbound rule, last: tcp to
// `peer`:`port` (an exact host and port, so a hash-set element). Benchmarks
// measure a flow that only this rule allows.
std::filesystem::path writeGeneratedPolicy(const std::filesystem::path& dir, size_t devices,
                                           const std::string& lastRulePeer, int lastRulePort);

}  // namespace ringfence::test
