#include "ctl/present.h"

#include <algorithm>
#include <ctime>

#include "policy/schema.h"

namespace ringfence::ctl {

std::map<std::string, std::string> readProperties(
    sd_bus_message* m, std::map<std::string, std::vector<std::string>>& lists,
    std::vector<std::pair<std::string, std::string>>& dict, std::set<std::string>* numeric) {
  std::map<std::string, std::string> out;
  sd_bus_message_enter_container(m, 'a', "{sv}");
  while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
    const char* name = nullptr;
    sd_bus_message_read(m, "s", &name);
    const char* contents = nullptr;
    char type = 0;
    sd_bus_message_peek_type(m, &type, &contents);
    sd_bus_message_enter_container(m, 'v', contents);
    std::string c = contents ? contents : "";
    if (c == "s") {
      const char* v = nullptr;
      sd_bus_message_read(m, "s", &v);
      out[name] = v ? v : "";
    } else if (c == "t") {
      uint64_t v = 0;
      sd_bus_message_read(m, "t", &v);
      out[name] = std::to_string(v);
      if (numeric) numeric->insert(name);
    } else if (c == "u") {
      uint32_t v = 0;
      sd_bus_message_read(m, "u", &v);
      out[name] = std::to_string(v);
      if (numeric) numeric->insert(name);
    } else if (c == "as") {
      sd_bus_message_enter_container(m, 'a', "s");
      const char* v = nullptr;
      while (sd_bus_message_read(m, "s", &v) > 0) lists[name].push_back(v);
      sd_bus_message_exit_container(m);
    } else if (c == "a{ss}") {
      sd_bus_message_enter_container(m, 'a', "{ss}");
      const char *k = nullptr, *v = nullptr;
      while (sd_bus_message_read(m, "{ss}", &k, &v) > 0) dict.emplace_back(k, v);
      sd_bus_message_exit_container(m);
    } else {
      sd_bus_message_skip(m, contents);
    }
    sd_bus_message_exit_container(m);
    sd_bus_message_exit_container(m);
  }
  return out;
}

std::string localTime(uint64_t usec) {
  if (!usec) return "never";
  time_t t = static_cast<time_t>(usec / 1000000);
  char buf[64];
  struct tm tm {};
  localtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &tm);
  long age = static_cast<long>(time(nullptr) - t);
  return std::string(buf) + " (" + relativeAge(age) + ")";
}

std::string relativeAge(long seconds) {
  long a = seconds < 0 ? -seconds : seconds;
  std::string span = a < 60      ? std::to_string(a) + "s"
                     : a < 3600  ? std::to_string(a / 60) + "min"
                     : a < 86400 ? std::to_string(a / 3600) + "h"
                                 : std::to_string(a / 86400) + "d";
  return seconds < 0 ? "in " + span : span + " ago";
}

void writePropertiesJson(JsonWriter& j, const std::map<std::string, std::string>& p,
                         const std::set<std::string>& numeric,
                         const std::map<std::string, std::vector<std::string>>& lists) {
  auto endsWith = [](const std::string& s, std::string_view tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  for (const auto& [k, v] : p) {
    j.key(snakeCase(k));
    if (!numeric.count(k)) {
      if (v.empty())
        j.null();
      else
        j.value(v);
    } else if (endsWith(k, "At") || endsWith(k, "Since") || endsWith(k, "Until")) {
      j.time(std::stoull(v));
    } else {
      j.value(static_cast<uint64_t>(std::stoull(v)));
    }
  }
  for (const auto& [k, v] : lists) {
    j.key(snakeCase(k)).beginArray();
    for (const std::string& x : v) j.value(x);
    j.endArray();
  }
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

void printRules(const std::string& device, const policy::LoadOptions& load, std::ostream& out) {
  policy::LoadResult r = policy::loadPolicy(load);
  const policy::Device* d = r.ok() ? r.policy.findDevice(device) : nullptr;
  if (!d) return;
  out << "Rules (from " << d->file.str() << "):\n";
  auto print = [&](const char* kind, const std::vector<policy::Rule>& rules) {
    for (const policy::Rule& rule : rules) {
      std::string peers, ports;
      for (const policy::PeerSpec& peer : rule.peers) {
        peers += (peers.empty() ? "" : ", ") +
                 (peer.kind == policy::PeerSpec::Kind::Group ? "@" + peer.group.str()
                  : peer.kind == policy::PeerSpec::Kind::Any ? std::string("any")
                                                             : policy::toString(peer.prefix));
      }
      for (const policy::PortRange& pr : rule.ports) {
        ports += (ports.empty() ? " " : ",") + std::to_string(pr.low) +
                 (pr.high != pr.low ? "-" + std::to_string(pr.high) : "");
      }
      out << "  " << kind << " " << policy::toString(rule.proto) << ports
          << (rule.direction == policy::Direction::Outbound ? " to " : " from ") << peers
          << (rule.critical ? " [critical]" : "") << "  (line " << rule.where.line << ")"
          << (rule.comment.empty() ? "" : "  " + rule.comment.str()) << "\n";
    }
  };
  print("outbound   ", d->outbound);
  print("inbound    ", d->inbound);
  print("maintenance", d->maintenance);
}

std::vector<RecentViolation> readRecentViolations(sd_bus_message* m) {
  std::vector<RecentViolation> out;
  if (sd_bus_message_enter_container(m, 'a', "(tssssqqs)") < 0) return out;
  for (;;) {
    RecentViolation v;
    const char *direction = nullptr, *src = nullptr, *dst = nullptr, *proto = nullptr,
               *verdict = nullptr;
    if (sd_bus_message_read(m, "(tssssqqs)", &v.at, &direction, &src, &dst, &proto, &v.sport,
                            &v.dport, &verdict) <= 0)
      break;
    v.direction = direction;
    v.src = src;
    v.dst = dst;
    v.proto = proto;
    v.verdict = verdict;
    out.push_back(std::move(v));
  }
  sd_bus_message_exit_container(m);
  return out;
}

void printRecentViolations(const std::vector<RecentViolation>& recent, std::ostream& out) {
  if (recent.empty()) return;
  out << "Recent violations (newest first):\n";
  std::vector<std::vector<std::string>> rows;
  for (auto v = recent.rbegin(); v != recent.rend(); ++v) {
    bool ports = v->proto == "tcp" || v->proto == "udp";
    auto endpoint = [&](const std::string& addr, uint16_t port) {
      std::string a = addr.find(':') != std::string::npos && ports ? "[" + addr + "]" : addr;
      return ports ? a + ":" + std::to_string(port) : a;
    };
    rows.push_back({"  " + localTime(v->at), v->direction, v->proto,
                    endpoint(v->src, v->sport) + " -> " + endpoint(v->dst, v->dport), v->verdict});
  }
  out << table(rows);
}

}  // namespace ringfence::ctl
