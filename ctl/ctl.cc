#include "ctl/ctl.h"

#include <boost/program_options.hpp>
#include <ostream>

#include "ctl/offline.h"
#include "ctl/online.h"
#include "policy/paths.h"

namespace ringfence::ctl {
namespace po = boost::program_options;

namespace {

constexpr const char* kCommands =
    "Commands (talking to the daemon over D-Bus):\n"
    "  status                      daemon version, policy state, generation, counts\n"
    "  list                        one row per device\n"
    "  show DEVICE                 every property of one device\n"
    "  isolate DEVICE --reason T   isolate now\n"
    "  release DEVICE --reason T   end an isolation\n"
    "  reload                      reload the policy\n"
    "  maintain DEVICE --for D --reason T | --stop\n"
    "  check DEVICE (--to A|--from A) --proto P [--port N]\n"
    "  events                      follow events live\n"
    "  learn DEVICE                print observed flows as an allow: block\n"
    "Commands (from the files alone):\n"
    "  validate                    check every file\n"
    "  compile                     print the nftables ruleset\n"
    "  check --offline DEVICE (--to A|--from A) --proto P [--port N]\n";

struct Parsed {
  po::variables_map vm;
  std::string command;
  std::vector<std::string> args;
};

po::options_description describeOptions() {
  po::options_description opts("Options");
  opts.add_options()("help,h", "print this help")("version", "print the version")(
      "bus", po::value<std::string>()->default_value("system"),
      "system, session or a D-Bus address")("json", "print one JSON document")(
      "config", po::value<std::string>(),
      "daemon configuration (default " RINGFENCE_DEFAULT_CONFIG_FILE ")")(
      "profiles", po::value<std::string>(), "profiles directory (overrides the configuration)")(
      "groups", po::value<std::string>(), "groups file (overrides the configuration)")(
      "offline", "check: answer from the files alone")("to", po::value<std::string>(),
                                                       "check: the device opens a flow to ADDR")(
      "from", po::value<std::string>(), "check: ADDR opens a flow to the device")(
      "proto", po::value<std::string>(), "check: tcp, udp, icmp or icmpv6")(
      "port", po::value<unsigned>(), "check: destination port")(
      "reason", po::value<std::string>(), "isolate, release, maintain: why (logged)")(
      "for", po::value<std::string>(), "maintain: how long, e.g. 30m")(
      "stop", "maintain: close the window now");
  return opts;
}

policy::LoadOptions loadOptions(const po::variables_map& vm) {
  policy::LoadOptions load;
  if (vm.count("config")) {
    load.configFile = vm["config"].as<std::string>();
    load.configRequired = true;
  }
  if (vm.count("profiles")) load.profilesDir = vm["profiles"].as<std::string>();
  if (vm.count("groups")) load.groupsFile = vm["groups"].as<std::string>();
  return load;
}

int usage(std::ostream& err, const std::string& message) {
  err << "ringfencectl: " << message << "\nTry 'ringfencectl --help'.\n";
  return kExitUsage;
}

int runCheck(const Parsed& p, OutputMode mode, std::ostream& out, std::ostream& err) {
  if (p.args.size() != 1) return usage(err, "check takes exactly one DEVICE");
  CheckArgs c;
  c.device = p.args[0];
  if (p.vm.count("to")) c.to = p.vm["to"].as<std::string>();
  if (p.vm.count("from")) c.from = p.vm["from"].as<std::string>();
  if (c.to.has_value() == c.from.has_value())
    return usage(err, "check needs exactly one of --to and --from");
  if (!p.vm.count("proto")) return usage(err, "check needs --proto");
  c.proto = p.vm["proto"].as<std::string>();
  if (p.vm.count("port")) c.port = p.vm["port"].as<unsigned>();
  if (!p.vm.count("offline")) {
    OnlineArgs a;
    a.command = "check";
    a.bus = p.vm["bus"].as<std::string>();
    a.check = c;
    return runOnline(a, mode, out, err);
  }
  return runCheckOffline(loadOptions(p.vm), c, mode, out, err);
}

}  // namespace

int runCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description opts = describeOptions();
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>())("args",
                                                            po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("args", -1);

  Parsed p;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), p.vm);
    po::notify(p.vm);
  } catch (const po::error& e) {
    return usage(err, e.what());
  }
  if (p.vm.count("help")) {
    out << "Usage: ringfencectl [OPTIONS] COMMAND [ARGS]\n\n" << kCommands << "\n" << opts;
    return kExitOk;
  }
  if (p.vm.count("version")) {
    out << "ringfencectl " << RINGFENCE_VERSION << "\n";
    return kExitOk;
  }
  if (!p.vm.count("command")) return usage(err, "no command given");
  p.command = p.vm["command"].as<std::string>();
  if (p.vm.count("args")) p.args = p.vm["args"].as<std::vector<std::string>>();
  OutputMode mode{p.vm.count("json") > 0};

  if (p.command == "validate" || p.command == "compile") {
    if (!p.args.empty()) return usage(err, p.command + " takes no arguments");
    return p.command == "validate" ? runValidate(loadOptions(p.vm), mode, out, err)
                                   : runCompile(loadOptions(p.vm), mode, out, err);
  }
  if (p.command == "check") return runCheck(p, mode, out, err);
  if (p.command == "events") return runEvents(p.vm["bus"].as<std::string>(), mode, out, err);
  for (const char* online :
       {"status", "list", "show", "isolate", "release", "reload", "learn", "maintain"}) {
    if (p.command != online) continue;
    OnlineArgs a;
    a.command = p.command;
    a.args = p.args;
    a.bus = p.vm["bus"].as<std::string>();
    if (p.vm.count("reason")) a.reason = p.vm["reason"].as<std::string>();
    if (p.vm.count("for")) a.duration = p.vm["for"].as<std::string>();
    a.stop = p.vm.count("stop") > 0;
    a.load = loadOptions(p.vm);
    return runOnline(a, mode, out, err);
  }
  return usage(err, "unknown command '" + p.command + "'");
}

}  // namespace ringfence::ctl
