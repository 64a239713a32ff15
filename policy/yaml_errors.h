// yaml-cpp's syntax errors in the admin's words. yaml-cpp names the parser
// state ("illegal map value", "end of map not found") where it gave up, often
// lines after the mistake; this looks at the text to say what to fix, and
// where. Pure: text in, message out.
#pragma once

#include <string>
#include <string_view>

namespace ringfence::policy {

struct YamlErrorReport {
  int line = 1;  // 1-based, where the admin should look
  int column = 1;
  std::string message;  // starts with "invalid YAML: "
};

// `line` and `column` are yaml-cpp's mark (0-based), `yamlMessage` its text.
// Always returns a report: when no specific mistake is recognised, it is
// yaml-cpp's own text, at its mark, with a hint about quoting.
YamlErrorReport explainYamlError(std::string_view text, int line, int column,
                                 std::string_view yamlMessage);

}  // namespace ringfence::policy
