#include "daemon/options.h"

#include <boost/program_options.hpp>
#include <ostream>

#include "policy/paths.h"

namespace ringfence::daemon {
namespace po = boost::program_options;

std::variant<DaemonOptions, int> parseDaemonOptions(const std::vector<std::string>& args,
                                                    std::ostream& out, std::ostream& err) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "print this help")("version", "print the version")(
      "config", po::value<std::string>(),
      "daemon configuration (default " RINGFENCE_DEFAULT_CONFIG_FILE ")")(
      "profiles", po::value<std::string>(), "profiles directory (overrides the configuration)")(
      "groups", po::value<std::string>(), "groups file (overrides the configuration)")(
      "state-dir", po::value<std::string>(), "state directory (overrides the configuration)")(
      "table", po::value<std::string>(), "nftables table (family inet) to own")(
      "bus", po::value<std::string>()->default_value("system"),
      "system, session, none or a D-Bus address")("log-level",
                                                  po::value<std::string>()->default_value("info"),
                                                  "debug, info, warning or error")(
      "check", "validate, print what would be applied, exit 0/1 without touching the kernel")(
      "no-table-owner",
      "do not mark the table as owned by the daemon (other tools may change it; "
      "the daemon puts it back when they do)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(opts).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    err << "ringfenced: " << e.what() << "\nTry 'ringfenced --help'.\n";
    return 2;
  }
  if (vm.count("help")) {
    out << "Usage: ringfenced [OPTIONS]\n\nThe ringfence gateway daemon: applies the device "
           "profiles "
           "to the kernel and keeps them in force.\n\n"
        << opts;
    return 0;
  }
  if (vm.count("version")) {
    out << "ringfenced " << RINGFENCE_VERSION << "\n";
    return 0;
  }
  DaemonOptions o;
  if (vm.count("config")) {
    o.load.configFile = vm["config"].as<std::string>();
    o.load.configRequired = true;
  }
  if (vm.count("profiles")) o.load.profilesDir = vm["profiles"].as<std::string>();
  if (vm.count("groups")) o.load.groupsFile = vm["groups"].as<std::string>();
  if (vm.count("state-dir")) o.load.stateDir = vm["state-dir"].as<std::string>();
  if (vm.count("table")) o.load.table = vm["table"].as<std::string>();
  o.bus = vm["bus"].as<std::string>();
  auto level = parseLogLevel(vm["log-level"].as<std::string>());
  if (!level) {
    err << "ringfenced: invalid --log-level '" << vm["log-level"].as<std::string>()
        << "' (debug, info, warning or error)\n";
    return 2;
  }
  o.logLevel = *level;
  o.check = vm.count("check") > 0;
  o.ownTable = vm.count("no-table-owner") == 0;
  return o;
}

}  // namespace ringfence::daemon
