#include "daemon/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "daemon/atomic_file.h"
#include "policy/file_reader.h"

namespace ringfence::daemon {
namespace {

constexpr const char* kHeader = "ringfence-isolations 3";
constexpr const char* kHeaderV2 = "ringfence-isolations 2";
constexpr const char* kHeaderV1 = "ringfence-isolations 1";

// The state files are read like the policy files: only a regular file, never
// blocking (a FIFO must not hang the start before anything is applied), and
// bounded. 64 MiB is far above what any gateway writes (an isolation line is
// a few hundred bytes; learned flows are capped well below that).
constexpr size_t kMaxStateFileBytes = 64 * 1024 * 1024;

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char n = s[++i];
    out += n == 't' ? '\t' : n == 'n' ? '\n' : n;
  }
  return out;
}

policy::WallTime fromMicros(int64_t us) {
  return policy::WallTime{} + std::chrono::microseconds(us);
}

// Digits only: std::stoull would take "-1" as 2^64-1.
uint64_t count(const std::string& field) {
  if (field.empty() || field.size() > 19 ||
      field.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("count");
  return std::stoull(field);
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, '\t')) fields.push_back(field);
  return fields;
}

}  // namespace

static std::string joinAddresses(const std::vector<policy::IpAddress>& addresses) {
  std::string out;
  for (const policy::IpAddress& a : addresses)
    out += (out.empty() ? "" : ",") + policy::toString(a);
  return out.empty() ? "-" : out;
}

static std::vector<policy::IpAddress> parseAddresses(const std::string& field) {
  std::vector<policy::IpAddress> out;
  if (field == "-") return out;
  std::istringstream in(field);
  std::string one;
  while (std::getline(in, one, ',')) {
    auto a = policy::parseIpAddress(one);
    if (!a) throw std::invalid_argument("address");
    out.push_back(*a);
  }
  return out;
}

LoadedState StateStore::parse(const std::string& text, const std::string& file) {
  LoadedState state;
  auto problem = [&](std::string what) {
    if (state.problems.size() < LoadedState::kMaxProblems)
      state.problems.push_back(std::move(what));
    else
      ++state.moreProblems;
  };
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && (line == kHeader || line == kHeaderV2 || line == kHeaderV1)) continue;
    std::vector<std::string> f = split(line);
    try {
      if (f.size() == 5 && f[0] == "counters" && !f[1].empty()) {
        DeviceCounters c;
        c.violations = count(f[2]);
        if (f[3] != "-") c.lastViolation = fromMicros(std::stoll(f[3]));
        c.probes = count(f[4]);
        state.counters[unescape(f[1])] = c;
        continue;
      }
      if ((f.size() != 6 && f.size() != 8) || f[0] != "isolated" || f[1].empty())
        throw std::invalid_argument("shape");
      policy::Isolation iso;
      iso.device = unescape(f[1]);
      iso.since = fromMicros(std::stoll(f[2]));
      if (f[3] != "-") iso.releaseAt = fromMicros(std::stoll(f[3]));
      iso.by = unescape(f[4]);
      iso.reason = unescape(f[5]);
      if (f.size() == 8) {
        iso.addresses = parseAddresses(f[6]);
        if (f[7] != "-") {
          iso.mac = policy::parseMac(f[7]);
          if (!iso.mac) throw std::invalid_argument("mac");
        }
      }
      state.isolations.push_back(std::move(iso));
    } catch (const std::exception&) {
      problem(file + ":" + std::to_string(number) + ": unreadable line skipped");
    }
  }
  return state;
}

LoadedState StateStore::load() const {
  auto text = policy::readPolicyFile(path(), kMaxStateFileBytes);
  if (!text) {
    LoadedState state;
    if (text.error().kind == policy::FileReadError::Kind::Refused)
      state.problems.push_back("cannot read " + path() + ": " + text.error().message);
    return state;
  }
  return parse(*text, path());
}

std::string StateStore::serialize(const std::vector<policy::Isolation>& isolations,
                                  const CounterMap& counters) {
  std::string text = std::string(kHeader) + "\n";
  for (const policy::Isolation& iso : isolations) {
    text += "isolated\t" + escape(iso.device) + "\t" + std::to_string(policy::toMicros(iso.since)) +
            "\t" + (iso.releaseAt ? std::to_string(policy::toMicros(*iso.releaseAt)) : "-") + "\t" +
            escape(iso.by) + "\t" + escape(iso.reason) + "\t" + joinAddresses(iso.addresses) +
            "\t" + (iso.mac ? policy::toString(*iso.mac) : "-") + "\n";
  }
  for (const auto& [device, c] : counters) {
    text += "counters\t" + escape(device) + "\t" + std::to_string(c.violations) + "\t" +
            (c.lastViolation ? std::to_string(policy::toMicros(*c.lastViolation)) : "-") + "\t" +
            std::to_string(c.probes) + "\n";
  }
  return text;
}

std::expected<void, std::string> StateStore::save(const std::vector<policy::Isolation>& isolations,
                                                  const CounterMap& counters) const {
  return writeAtomically(path(), serialize(isolations, counters));
}

std::expected<std::string, std::string> StateStore::loadLearned() const {
  auto text = policy::readPolicyFile(learnedPath(), kMaxStateFileBytes);
  if (!text) {
    switch (text.error().kind) {
      case policy::FileReadError::Kind::Missing:
        return std::string();
      case policy::FileReadError::Kind::Refused:
        return std::unexpected("cannot read " + learnedPath() + ": " + text.error().message);
    }
  }
  return std::move(*text);
}

std::expected<void, std::string> StateStore::saveLearned(const std::string& text) const {
  return writeAtomically(learnedPath(), text);
}

std::expected<void, std::string> StateStore::writeAtomically(const std::string& target,
                                                             const std::string& text) const {
  return writeFileAtomically(dir_, target, text);
}

}  // namespace ringfence::daemon
