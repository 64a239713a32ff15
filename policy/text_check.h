// Checks on the text of policy files: it must be UTF-8, and free text must
// not hold control characters (they would forge log lines or garble a terminal).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ringfence::policy {

// The byte offset of the first sequence that is not well-formed UTF-8
// (overlong forms, surrogates and code points above U+10FFFF included), or
// nothing when the whole text is valid.
std::optional<size_t> firstInvalidUtf8(std::string_view text);
inline bool isValidUtf8(std::string_view text) { return !firstInvalidUtf8(text); }

// The first control character in valid UTF-8 text (C0 except tab, LF and CR;
// DEL; C1): its code point and byte offset.
struct ControlCharacter {
  char32_t codePoint;
  size_t offset;
};
std::optional<ControlCharacter> firstControlCharacter(std::string_view text);

// Valid UTF-8 without any control character (tab, LF and CR included).
bool isPrintableUtf8(std::string_view text);

// `text` with every invalid byte and control character written as \xNN (or
// \u{NNNN} for C1): safe to print and to put on the bus.
std::string escapeForDisplay(std::string_view text);

// "U+0007".
std::string codePointName(char32_t c);

}  // namespace ringfence::policy
