// ringfenced's command line (cli.md), parsed with Boost.Program_options.
#pragma once

#include <iosfwd>
#include <string>
#include <variant>
#include <vector>

#include "daemon/log.h"
#include "policy/loader.h"

namespace ringfence::daemon {

struct DaemonOptions {
  policy::LoadOptions load;
  std::string bus = "system";
  LogLevel logLevel = LogLevel::Info;
  bool check = false;
  bool ownTable = true;  // --no-table-owner: leave the table changeable by other tools
};

// Either options to run with, or an exit code after --help/--version/an error.
std::variant<DaemonOptions, int> parseDaemonOptions(const std::vector<std::string>& args,
                                                    std::ostream& out, std::ostream& err);

}  // namespace ringfence::daemon
