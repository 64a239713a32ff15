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

// With --json every outcome is one JSON document on `out`, a failure too
// (docs/json.md): runCtl turns what runCommand said on `err` into an error
// object when the command printed no document of its own.
int runCtl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int runCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
// {"error": {"exit_code", "kind", "message", "details"}} from what a command
// said on stderr: its first line is the message, the others the details.
std::string errorDocument(int code, const std::string& said);
const char* exitKind(int code);  // "refused", "usage", "unreachable", ...

}  // namespace ringfence::ctl
