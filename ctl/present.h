// How ringfencectl shows what the daemon answers: property values as text,
// local times with ages, aligned tables, and a device's rules from the local
// profiles.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ctl/json.h"
#include "policy/loader.h"

namespace ringfence::ctl {

// Reads a{sv} of GetAll into text values (strings, numbers, lists of strings,
// dicts); `numeric`, when given, receives the names of the numbers.
std::map<std::string, std::string> readProperties(
    sd_bus_message* m, std::map<std::string, std::vector<std::string>>& lists,
    std::vector<std::pair<std::string, std::string>>& dict,
    std::set<std::string>* numeric = nullptr);

// Properties as one JSON object of docs/json.md: snake_case keys, numbers as
// numbers, times (names ending in At, Since, Until) as RFC 3339 UTC or null,
// empty strings as null. Leaves the object open for more keys.
void writePropertiesJson(JsonWriter& j, const std::map<std::string, std::string>& p,
                         const std::set<std::string>& numeric,
                         const std::map<std::string, std::vector<std::string>>& lists);

struct RecentViolation {
  uint64_t at = 0;
  std::string direction, src, dst, proto;
  uint16_t sport = 0, dport = 0;
  std::string verdict;
};
// Reads the answer of GetRecentViolations, a(tssssqqs).
std::vector<RecentViolation> readRecentViolations(sd_bus_message* m);
// "Recent violations:" and one line each, newest first; nothing when there are none.
void printRecentViolations(const std::vector<RecentViolation>& recent, std::ostream& out);

// CLOCK_REALTIME microseconds as a local date and how far from now ("5min
// ago", "in 30min"); 0 is "never".
std::string localTime(uint64_t usec);
// An age in seconds as "42s ago", "5min ago", ...; a negative one (the
// future) as "in 30min".
std::string relativeAge(long seconds);

// Rows with their columns aligned, two spaces apart.
std::string table(const std::vector<std::vector<std::string>>& rows);

// The device's rules as the local profiles state them (the daemon does not
// publish rules on the bus); silent when the files are not readable here.
void printRules(const std::string& device, const policy::LoadOptions& load, std::ostream& out);

}  // namespace ringfence::ctl
