#include "policy/profile_names.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "policy/file_reader.h"

namespace ringfence::policy {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool isProfileFileName(std::string_view name) {
  if (name.empty() || name[0] == '.') return false;
  std::string l = lower(name);
  return (endsWith(l, ".yaml") && l.size() > 5) || (endsWith(l, ".yml") && l.size() > 4);
}

std::string notAProfileReason(std::string_view name, unsigned mode) {
  std::string l = lower(name);
  std::string what;
  if (mode != 0 && !S_ISREG(mode)) what = describeFileType(mode) + ", and ";
  // x.yaml~, x.yaml.bak, x.yaml.dpkg-old, #x.yaml#, x.yml.swp ...
  bool copy = l.find(".yaml") != std::string::npos || l.find(".yml") != std::string::npos;
  if (copy) {
    return what +
           "a backup or temporary copy of a profile? only names ending in .yaml or .yml "
           "are profiles";
  }
  return what + "not a profile: only names ending in .yaml or .yml are profiles";
}

}  // namespace ringfence::policy
