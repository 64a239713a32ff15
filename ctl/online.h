// The commands that talk to ringfenced over D-Bus (docs/spec/dbus.md).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "ctl/offline.h"

namespace ringfence::ctl {

struct OnlineArgs {
  std::string command;
  std::vector<std::string> args;
  std::string bus = "system";
  std::string reason;
  std::string duration;  // maintain --for
  bool stop = false;     // maintain --stop
  CheckArgs check;
  policy::LoadOptions load;  // `show` prints the device's rules from the local files
};

int runOnline(const OnlineArgs& a, OutputMode mode, std::ostream& out, std::ostream& err);
// Follows the daemon's signals until interrupted (events.cc).
int runEvents(const std::string& bus, OutputMode mode, std::ostream& out, std::ostream& err);

}  // namespace ringfence::ctl
