#include "policy/text_check.h"

#include <cstdint>
#include <cstdio>

namespace ringfence::policy {
namespace {

// Decodes one well-formed UTF-8 sequence at `i` (RFC 3629, table 3-7 of the
// Unicode standard); returns its length, 0 if ill-formed.
size_t decode(std::string_view s, size_t i, char32_t& out) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    out = b0;
    return 1;
  }
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // continuation byte, C0/C1 (overlong), F5..FF
  }
  if (i + len > s.size()) return 0;
  char32_t c = b0 & (0xFF >> (len + 1));
  for (size_t k = 1; k < len; ++k) {
    uint8_t b = byte(i + k);
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
    c = (c << 6) | (b & 0x3F);
  }
  out = c;
  return len;
}

bool isControl(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

}  // namespace

std::optional<size_t> firstInvalidUtf8(std::string_view text) {
  char32_t c;
  for (size_t i = 0; i < text.size();) {
    if (static_cast<uint8_t>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = decode(text, i, c);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::optional<ControlCharacter> firstControlCharacter(std::string_view text) {
  char32_t c;
  for (size_t i = 0; i < text.size();) {
    size_t n = decode(text, i, c);
    if (n == 0) return std::nullopt;  // not UTF-8: reported elsewhere
    if (isControl(c) && c != '\t' && c != '\n' && c != '\r') return ControlCharacter{c, i};
    i += n;
  }
  return std::nullopt;
}

bool isPrintableUtf8(std::string_view text) {
  char32_t c;
  for (size_t i = 0; i < text.size();) {
    size_t n = decode(text, i, c);
    if (n == 0 || isControl(c)) return false;
    i += n;
  }
  return true;
}

std::string escapeForDisplay(std::string_view text) {
  std::string out;
  char buf[16];
  char32_t c;
  for (size_t i = 0; i < text.size();) {
    size_t n = decode(text, i, c);
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<uint8_t>(text[i]));
      out += buf;
      ++i;
      continue;
    }
    if (isControl(c)) {
      std::snprintf(buf, sizeof buf, c < 0x80 ? "\\x%02X" : "\\u{%04X}", static_cast<unsigned>(c));
      out += buf;
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string codePointName(char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
  return buf;
}

}  // namespace ringfence::policy
