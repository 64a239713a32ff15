// ringfencectl: the admin's command. runCtl is main() without the process, so
// tests drive it with argument vectors and read what it printed.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace ringfence::ctl {

// Exit codes, as cli.md defines them for both programs.
enum ExitCode : int {
  kExitOk = 0,
  kExitRefused = 1,
  kExitUsage = 2,
  kExitUnreachable = 3,
  kExitAccessDenied = 4,
  kExitNoSuchDevice = 5,
};

int runCtl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ringfence::ctl
