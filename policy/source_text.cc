#include "policy/source_text.h"

#include <cstdio>

#include "policy/file_reader.h"
#include "policy/text_check.h"

namespace ringfence::policy {
namespace {

// 1-based line and byte column of `offset` in `text`.
SourceLocation locate(const SourceFile& f, size_t offset) {
  size_t lineStart = 0;
  int line = 1;
  for (size_t i = 0; i < offset && i < f.text.size(); ++i) {
    if (f.text[i] == '\n') {
      ++line;
      lineStart = i + 1;
    }
  }
  return {f.path, line, static_cast<int>(offset - lineStart) + 1};
}

}  // namespace

std::optional<YamlNode> parseSourceFile(const SourceFile& f, Diagnostics& diags) {
  if (f.text.empty()) {
    diags.error({f.path, 1, 1}, "file is empty: it may still be being written");
    return std::nullopt;
  }
  if (f.text.size() > kMaxPolicyFileBytes) {
    diags.error({f.path, 1, 1},
                "file is larger than " + std::to_string(kMaxPolicyFileBytes) + " bytes");
    return std::nullopt;
  }
  if (auto bad = firstInvalidUtf8(f.text)) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(f.text[*bad]));
    diags.error(locate(f, *bad),
                std::string("invalid UTF-8 (byte ") + byte + "): policy files must be UTF-8");
    return std::nullopt;
  }
  if (f.text.back() != '\n') {
    diags.error(locate(f, f.text.size()),
                "file ends without a newline: it may still be being written");
    return std::nullopt;
  }
  return parseYaml(f.text, f.path, diags);
}

}  // namespace ringfence::policy
