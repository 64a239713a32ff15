#include "daemon/log.h"

#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "policy/text_out.h"

namespace ringfence::daemon {
namespace {

LogLevel threshold = LogLevel::Info;
LogObserver observer;
std::thread::id observerThread;
bool observing = false;  // an observer that logs does not hear itself

bool stderrIsJournal() {
  static const bool journal = [] {
    const char* env = std::getenv("JOURNAL_STREAM");
    struct stat st {};
    if (!env || fstat(STDERR_FILENO, &st) != 0) return false;
    unsigned long dev = 0, ino = 0;
    return std::sscanf(env, "%lu:%lu", &dev, &ino) == 2 && dev == st.st_dev && ino == st.st_ino;
  }();
  return journal;
}

}  // namespace

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

const char* levelName(LogLevel l) {
  switch (l) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warning:
      return "warning";
    case LogLevel::Error:
      return "error";
  }
  return "?";
}

namespace {

int syslogPriority(LogLevel l) {
  switch (l) {
    case LogLevel::Debug:
      return LOG_DEBUG;
    case LogLevel::Info:
      return LOG_INFO;
    case LogLevel::Warning:
      return LOG_WARNING;
    case LogLevel::Error:
      return LOG_ERR;
  }
  return LOG_INFO;
}

}  // namespace

std::optional<LogLevel> parseLogLevel(std::string_view s) {
  for (LogLevel l : {LogLevel::Debug, LogLevel::Info, LogLevel::Warning, LogLevel::Error}) {
    if (s == levelName(l)) return l;
  }
  return std::nullopt;
}

void setLogLevel(LogLevel level) { threshold = level; }

std::string formatLogLine(std::optional<std::chrono::system_clock::time_point> when, LogLevel level,
                          std::string_view event, std::string_view message,
                          std::string_view device) {
  std::string line = when ? rfc3339Utc(*when) + " " : std::string();
  line += std::string(levelName(level)) + ": ";
  line += message;
  line += " [event=";
  line += event;
  if (!device.empty()) {
    line += " device=";
    line += device;
  }
  line += "]\n";
  return line;
}

// Every field is one line of valid UTF-8: no message, device name or reason
// can forge a log line or a journal field.
static std::string clean(std::string_view s) {
  return policy::escapeControls(policy::validUtf8(s));
}

void setLogObserver(LogObserver o) {
  observer = std::move(o);
  observerThread = std::this_thread::get_id();
}

static void tellObserver(LogLevel level, const std::string& ev, const std::string& message,
                         const std::string& device) {
  if (!observer || level < LogLevel::Info || observing ||
      std::this_thread::get_id() != observerThread)
    return;
  observing = true;
  try {
    observer(level, ev, message, device);
  } catch (...) {  // a bus that cannot send never stops the log
  }
  observing = false;
}

void log(LogLevel level, std::string_view rawEvent, const std::string& rawMessage,
         const std::string& rawDevice) {
  if (level < threshold && (level < LogLevel::Info || !observer)) return;
  std::string ev = clean(rawEvent), message = clean(rawMessage), device = clean(rawDevice);
  tellObserver(level, ev, message, device);
  if (level < threshold) return;
  if (stderrIsJournal()) {
    if (device.empty()) {
      sd_journal_send("MESSAGE=%s", message.c_str(), "PRIORITY=%i", syslogPriority(level),
                      "RINGFENCE_EVENT=%s", ev.c_str(), nullptr);
    } else {
      sd_journal_send("MESSAGE=%s", message.c_str(), "PRIORITY=%i", syslogPriority(level),
                      "RINGFENCE_EVENT=%s", ev.c_str(), "RINGFENCE_DEVICE=%s", device.c_str(),
                      nullptr);
    }
    return;
  }
  std::string line = formatLogLine(std::chrono::system_clock::now(), level, ev, message, device);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace ringfence::daemon
