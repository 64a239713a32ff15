// ringfenced: see daemon/manager.h.
#include <csignal>
#include <iostream>

#include "daemon/manager.h"

int main(int argc, char** argv) {
  using namespace ringfence::daemon;
  // Past a file size limit (LimitFSIZE=) a state file's write fails with
  // EFBIG, is reported and keeps the old file, instead of killing the daemon.
  std::signal(SIGXFSZ, SIG_IGN);
  auto parsed = parseDaemonOptions({argv + 1, argv + argc}, std::cout, std::cerr);
  if (const int* code = std::get_if<int>(&parsed)) return *code;
  DaemonOptions options = std::get<DaemonOptions>(std::move(parsed));
  setLogLevel(options.logLevel);
  if (options.check) return runCheck(options);
  return Manager(std::move(options)).run();
}
