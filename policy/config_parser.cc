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
               "admin_group"},
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
  if (const YamlNode* n = f.get("device_interfaces")) {
    if (auto items = r.list(*n, "device_interfaces")) {
      for (const YamlNode* item : *items) {
        auto t = r.text(*item, "an interface");
        if (!t) continue;
        if (!isValidInterfaceName(*t)) {
          r.error(*item, interfaceNameError(*t));
        } else if (std::find(c.deviceInterfaces.begin(), c.deviceInterfaces.end(), *t) !=
                   c.deviceInterfaces.end()) {
          r.error(*item, "interface '" + *t + "' is listed twice");
        } else {
          c.deviceInterfaces.push_back(*t);
        }
      }
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
  return c;
}

}  // namespace ringfence::policy
