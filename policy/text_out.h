// Text that leaves the daemon: valid UTF-8 on the bus, control characters
// escaped in the log, and reasons (Isolate, Release, StartMaintenance) that
// are bounded and printable. Pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "policy/text_check.h"  // isValidUtf8

namespace ringfence::policy {

// `s` with every invalid UTF-8 sequence replaced by U+FFFD (one per maximal
// invalid subpart, as Unicode recommends); valid text comes back unchanged.
std::string validUtf8(std::string_view s);

// RFC 3339 in UTC with milliseconds: "2026-12-02T18:25:56.123Z" (the log's
// line times and ringfencectl's JSON times).
std::string rfc3339Utc(std::chrono::system_clock::time_point t);
// Control characters (C0, DEL) escaped: \n \r \t as such, the others as \xNN;
// nothing else changes. A log line made of such text stays one line.
std::string escapeControls(std::string_view s);

inline constexpr size_t kMaxReasonBytes = 512;
// Why a reason is refused (empty, longer than kMaxReasonBytes, not valid
// UTF-8, or holding a control character), or nullopt when it is fine.
std::optional<std::string> reasonProblem(std::string_view reason);

}  // namespace ringfence::policy
