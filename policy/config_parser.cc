#include <algorithm>
#include <filesystem>

#include "policy/loader.h"
#include "policy/profile_parser.h"
#include "policy/schema.h"

namespace ringfence::policy {
namespace {

bool isValidUnixGroup(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  auto first = name[0];
  if (!((first >= 'a' && first <= 'z') || first == '_')) return false;
  for (char c : name.substr(1)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string resolveFrom(const std::string& configFile, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || configFile.empty()) return path;
  return (std::filesystem::path(configFile).parent_path() / p).lexically_normal().string();
}

// gateway_services: ["tcp/22", "udp/161"]
void parseGatewayServices(NodeReader& r, const YamlNode& n, DaemonConfig& c) {
  auto items = r.list(n, "gateway_services");
  if (!items) return;
  for (const YamlNode* item : *items) {
    auto t = r.text(*item, "a gateway service");
    if (!t) continue;
    auto slash = t->find('/');
    std::string proto = t->substr(0, slash);
    std::string port = slash == std::string::npos ? "" : t->substr(slash + 1);
    bool digits =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    unsigned long number = digits ? std::stoul(port) : 0;
    if ((proto != "tcp" && proto != "udp") || number < 1 || number > 65535) {
      r.error(*item, "invalid gateway service '" + *t + "' (tcp/PORT or udp/PORT, port 1-65535)");
      continue;
    }
    std::pair<uint8_t, uint16_t> s{proto == "tcp" ? 6 : 17, static_cast<uint16_t>(number)};
    if (std::find(c.gatewayServices.begin(), c.gatewayServices.end(), s) !=
        c.gatewayServices.end()) {
      r.warning(*item, "gateway service '" + *t + "' is listed twice");
      continue;
    }
    c.gatewayServices.push_back(s);
  }
}

// device_interfaces / uplink_interfaces: a list of distinct interface names.
void parseInterfaces(NodeReader& r, const YamlNode& n, const char* key,
                     std::vector<std::string>& out) {
  auto items = r.list(n, key);
  if (!items) return;
  for (const YamlNode* item : *items) {
    auto t = r.text(*item, "an interface");
    if (!t) continue;
    if (!isValidInterfaceName(*t)) {
      r.error(*item, interfaceNameError(*t));
    } else if (std::find(out.begin(), out.end(), *t) != out.end()) {
      r.error(*item, "interface '" + *t + "' is listed twice");
    } else {
      out.push_back(*t);
    }
  }
}

}  // namespace

bool isValidTableName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(name[0])) return false;
  for (char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '_') return false;
  }
  return true;
}

DaemonConfig parseConfig(const YamlNode& root, const std::string& file, Diagnostics& diags) {
  DaemonConfig c;
  c.file = file;
  NodeReader r(file, diags);
  if (root.kind == YamlNode::Kind::Null) return c;
  if (!r.isMap(root, "the configuration")) return c;
  MapFields f(r, root,
              {"profiles", "groups", "state_dir", "table", "device_interfaces", "unknown_devices",
               "admin_group", "gateway_services", "topology", "uplink_interfaces",
               "conntrack_warn_percent"},
              "configuration");
  auto path = [&](const char* key, std::string& out) {
    const YamlNode* n = f.get(key);
    if (!n) return;
    auto t = r.text(*n, key);
    if (!t) return;
    if (t->empty()) {
      r.error(*n, std::string(key) + " must not be empty");
      return;
    }
    out = resolveFrom(file, *t);
  };
  path("profiles", c.profilesDir);
  path("groups", c.groupsFile);
  path("state_dir", c.stateDir);
  if (const YamlNode* n = f.get("table")) {
    if (auto t = r.text(*n, "table")) {
      if (isValidTableName(*t)) {
        c.table = *t;
      } else {
        r.error(*n, "invalid table name '" + *t +
                        "' (a letter, then letters, digits or '_'; at most 64)");
      }
    }
  }
  if (const YamlNode* n = f.get("device_interfaces"))
    parseInterfaces(r, *n, "device_interfaces", c.deviceInterfaces);
  if (const YamlNode* n = f.get("uplink_interfaces"))
    parseInterfaces(r, *n, "uplink_interfaces", c.uplinkInterfaces);
  if (const YamlNode* n = f.get("topology")) {
    if (auto t = r.text(*n, "topology")) {
      if (*t == "routed") {
        c.topology = *t;
      } else if (*t == "bridge") {
        c.topology = *t;
        // Every bridge port that is not an uplink is a device port
        // (docs/bridge.md): without uplinks nothing could pass.
        if (c.uplinkInterfaces.empty())
          r.error(*n,
                  "topology 'bridge' needs uplink_interfaces: the bridge ports that face the "
                  "LAN and the devices' router");
      } else {
        r.error(*n, "invalid topology '" + *t + "' (routed or bridge)");
      }
    }
  }
  if (const YamlNode* n = f.get("uplink_interfaces"); n && c.topology == "routed") {
    if (!c.uplinkInterfaces.empty())
      r.warning(*n, "uplink_interfaces is used only with topology: bridge; ignored");
  }
  for (const std::string& uplink : c.uplinkInterfaces) {
    if (std::find(c.deviceInterfaces.begin(), c.deviceInterfaces.end(), uplink) !=
        c.deviceInterfaces.end()) {
      r.error(*f.get("uplink_interfaces"),
              "interface '" + uplink + "' is both a device interface and an uplink");
    }
  }
  if (const YamlNode* n = f.get("unknown_devices")) {
    if (auto t = r.text(*n, "unknown_devices")) {
      bool found = false;
      for (UnknownDevices u :
           {UnknownDevices::Drop, UnknownDevices::Alert, UnknownDevices::Allow}) {
        if (*t == toString(u)) {
          c.unknownDevices = u;
          found = true;
        }
      }
      if (!found) r.error(*n, "invalid unknown_devices '" + *t + "' (drop, alert or allow)");
    }
  }
  if (const YamlNode* n = f.get("admin_group")) {
    if (auto t = r.text(*n, "admin_group")) {
      if (isValidUnixGroup(*t)) {
        c.adminGroup = *t;
      } else {
        r.error(*n, "invalid admin_group '" + *t + "' (a Unix group name)");
      }
    }
  }
  if (const YamlNode* n = f.get("gateway_services")) parseGatewayServices(r, *n, c);
  if (const YamlNode* n = f.get("conntrack_warn_percent")) {
    if (auto v = r.integer(*n, "conntrack_warn_percent", 1, 100))
      c.conntrackWarnPercent = static_cast<uint32_t>(*v);
  }
  return c;
}

}  // namespace ringfence::policy
