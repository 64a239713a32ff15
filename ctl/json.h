// A minimal JSON writer for --json output: objects, arrays, strings, numbers,
// bools, null, and the one style of docs/json.md (snake_case keys, RFC 3339
// UTC times).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringfence::ctl {

class JsonWriter {
 public:
  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(int64_t n);
  JsonWriter& value(uint64_t n);
  JsonWriter& value(int n) { return value(static_cast<int64_t>(n)); }
  JsonWriter& value(unsigned n) { return value(static_cast<uint64_t>(n)); }
  JsonWriter& value(bool b);
  JsonWriter& null();
  // CLOCK_REALTIME microseconds as an RFC 3339 UTC time; 0 (never) is null.
  JsonWriter& time(uint64_t usec);
  const std::string& str() const { return out_; }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool afterKey_ = false;
};

std::string jsonEscape(std::string_view s);

// "2026-12-02T18:25:56.123Z": CLOCK_REALTIME microseconds, UTC, milliseconds.
std::string rfc3339(uint64_t usec);

// A D-Bus property name as a JSON key: "PacketsAllowed" -> "packets_allowed".
std::string snakeCase(std::string_view name);

}  // namespace ringfence::ctl
