#include "policy/learning.h"

#include <sstream>

namespace ringfence::policy {
namespace {

const char* protoText(uint8_t p) {
  auto proto = protoFromNumber(p);
  return proto ? toString(*proto) : nullptr;  // the allowlist speaks only these
}

}  // namespace

bool LearnedFlows::record(const std::string& device, const ObservedFlow& flow, uint64_t count) {
  auto& flows = devices_[device];
  auto it = flows.find(flow);
  if (it != flows.end()) {
    it->second += count;
    return false;
  }
  if (flows.size() >= kMaxFlowsPerDevice) {
    ++dropped_;
    return false;
  }
  flows.emplace(flow, count);
  return true;
}

const std::map<ObservedFlow, uint64_t>& LearnedFlows::flows(const std::string& device) const {
  static const std::map<ObservedFlow, uint64_t> none;
  auto it = devices_.find(device);
  return it == devices_.end() ? none : it->second;
}

std::string LearnedFlows::serialize() const {
  std::string out;
  for (const auto& [device, flows] : devices_) {
    for (const auto& [f, count] : flows) {
      out += device + "\t" + toString(f.direction) + "\t" + toString(f.peer) + "\t" +
             std::to_string(f.proto) + "\t" + std::to_string(f.port) + "\t" +
             std::to_string(count) + "\n";
    }
  }
  return out;
}

LearnedFlows LearnedFlows::parse(const std::string& text, std::vector<std::string>& problems) {
  LearnedFlows learned;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream fields(line);
    std::string device, direction, peer;
    unsigned proto = 0, port = 0;
    unsigned long long count = 0;
    auto address = std::optional<IpAddress>();
    if (std::getline(fields, device, '\t') && std::getline(fields, direction, '\t') &&
        std::getline(fields, peer, '\t') && (fields >> proto >> port >> count) && proto < 256 &&
        port < 65536 && (direction == "outbound" || direction == "inbound") &&
        (address = parseIpAddress(peer))) {
      ObservedFlow f{direction == "outbound" ? Direction::Outbound : Direction::Inbound, *address,
                     static_cast<uint8_t>(proto), static_cast<uint16_t>(port)};
      learned.record(device, f, count);
    } else {
      problems.push_back("line " + std::to_string(number) + " unreadable, skipped");
    }
  }
  return learned;
}

std::string LearnedFlows::allowBlock(const std::string& device) const {
  struct Key {
    Direction direction;
    IpAddress peer;
    uint8_t proto;
    auto operator<=>(const Key&) const = default;
  };
  std::map<Key, std::pair<std::vector<uint16_t>, uint64_t>> rules;
  for (const auto& [f, count] : flows(device)) {
    if (!protoText(f.proto)) continue;  // the allowlist speaks tcp, udp, icmp, icmpv6
    auto& r = rules[Key{f.direction, f.peer, f.proto}];
    if (f.proto == 6 || f.proto == 17) r.first.push_back(f.port);
    r.second += count;
  }
  std::string out = "allow:\n";
  for (Direction dir : {Direction::Outbound, Direction::Inbound}) {
    std::string block;
    for (const auto& [key, rule] : rules) {
      if (key.direction != dir) continue;
      block += std::string("    - ") + (dir == Direction::Outbound ? "to: " : "from: ") + "\"" +
               toString(key.peer) + "\"\n      proto: " + protoText(key.proto) + "\n";
      if (!rule.first.empty()) {
        block += "      ports: [";
        for (size_t i = 0; i < rule.first.size(); ++i)
          block += (i ? ", " : "") + std::to_string(rule.first[i]);
        block += "]\n";
      }
      block += "      comment: \"learned: ";
      block += std::to_string(rule.second);
      block += rule.second == 1 ? " flow\"\n" : " flows\"\n";
    }
    if (!block.empty()) out += std::string("  ") + toString(dir) + ":\n" + block;
  }
  return out;
}

}  // namespace ringfence::policy
