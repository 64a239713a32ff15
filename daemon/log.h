// One line per event on stderr; under systemd (JOURNAL_STREAM names our
// stderr) the same events go to the journal with structured fields
// RINGFENCE_EVENT= and RINGFENCE_DEVICE=. Anywhere else (run by hand,
// redirected to a file) each line starts with its time, which the journal
// would otherwise add.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "policy/text_out.h"

namespace ringfence::daemon {

enum class LogLevel { Debug, Info, Warning, Error };

std::optional<LogLevel> parseLogLevel(std::string_view s);
void setLogLevel(LogLevel level);

// `event` is a short machine-readable name ("policy-applied"); `device` may be empty.
// Control characters in any of them are escaped (\n, \r, \t, else \xNN) and
// invalid UTF-8 becomes U+FFFD, on stderr and in the journal's fields alike.
void log(LogLevel level, std::string_view event, const std::string& message,
         const std::string& device = {});

const char* levelName(LogLevel level);  // "debug", "info", "warning", "error"
std::string fixed1(double v);           // "12.3": durations in messages

// Every event logged at info or above, whatever --log-level says, is also
// handed to the observer (the bus turns it into the Event signal), with the
// same cleaned fields. Called only on the thread that set it, never
// re-entered; an empty function removes it.
using LogObserver = std::function<void(LogLevel level, const std::string& event,
                                       const std::string& message, const std::string& device)>;
void setLogObserver(LogObserver observer);

using policy::rfc3339Utc;  // the line's time
// The stderr line of one event (fields already cleaned), ending in a newline;
// `when` set: the line starts with that time and a space.
std::string formatLogLine(std::optional<std::chrono::system_clock::time_point> when, LogLevel level,
                          std::string_view event, std::string_view message,
                          std::string_view device);

}  // namespace ringfence::daemon
