#include "policy/text_out.h"

#include <cstdint>
#include <cstdio>
#include <ctime>

namespace ringfence::policy {
namespace {

// A lead byte: the sequence length and the range of the second byte; false
// for bytes that never start a sequence (continuations, C0, C1, F5..FF).
// Overlong forms, surrogates and code points above U+10FFFF are excluded
// by the ranges.
bool lead(uint8_t c, size_t& n, uint8_t& lo, uint8_t& hi) {
  lo = 0x80;
  hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return false;
  }
  return true;
}

// How many bytes at s[i] are valid (the sequence's length, or 1 for ASCII)
// or, when `valid` comes back false, how many form a maximal invalid subpart.
size_t scan(std::string_view s, size_t i, bool& valid) {
  auto at = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  valid = true;
  if (at(i) < 0x80) return 1;
  size_t n = 0;
  uint8_t lo = 0, hi = 0;
  valid = false;
  if (!lead(at(i), n, lo, hi)) return 1;
  if (i + 1 >= s.size() || at(i + 1) < lo || at(i + 1) > hi) return 1;
  size_t k = 2;
  while (k < n && i + k < s.size() && (at(i + k) & 0xc0) == 0x80) ++k;
  valid = k == n;
  return k;
}

}  // namespace

std::string validUtf8(std::string_view s) {
  if (isValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    bool valid = true;
    size_t n = scan(s, i, valid);
    if (valid)
      out.append(s.substr(i, n));
    else
      out += "\xef\xbf\xbd";  // U+FFFD
    i += n;
  }
  return out;
}

std::string escapeControls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<uint8_t>(ch);
    if (c >= 0x20 && c != 0x7f) {
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

std::optional<std::string> reasonProblem(std::string_view reason) {
  if (reason.empty()) return "the reason is empty (it is logged: say why)";
  if (reason.size() > kMaxReasonBytes) {
    return "the reason is " + std::to_string(reason.size()) + " bytes long; at most " +
           std::to_string(kMaxReasonBytes) + " are allowed";
  }
  if (!isValidUtf8(reason)) return "the reason is not valid UTF-8";
  for (size_t i = 0; i < reason.size(); ++i) {
    auto c = static_cast<uint8_t>(reason[i]);
    if (c < 0x20 || c == 0x7f) {
      return "the reason holds a control character (byte " + std::to_string(i) +
             "); use one line of printable text";
    }
  }
  return std::nullopt;
}

std::string rfc3339Utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  // Floor, not truncation toward zero: a time before 1970 keeps its second.
  auto whole = floor<seconds>(t);
  auto millis = duration_cast<milliseconds>(floor<milliseconds>(t) - whole).count();
  std::time_t seconds = static_cast<std::time_t>(whole.time_since_epoch().count());
  std::tm tm{};
  char date[32] = "?";
  if (gmtime_r(&seconds, &tm)) std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", date, static_cast<int>(millis));
  return out;
}

}  // namespace ringfence::policy
