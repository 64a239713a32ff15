// One line per event on stderr; under systemd (JOURNAL_STREAM names our
// stderr) the same events go to the journal with structured fields
// RINGFENCE_EVENT= and RINGFENCE_DEVICE=.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

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

// Every event logged at info or above, whatever --log-level says, is also
// handed to the observer (the bus turns it into the Event signal), with the
// same cleaned fields. Called only on the thread that set it, never
// re-entered; an empty function removes it.
using LogObserver = std::function<void(LogLevel level, const std::string& event,
                                       const std::string& message, const std::string& device)>;
void setLogObserver(LogObserver observer);

}  // namespace ringfence::daemon
