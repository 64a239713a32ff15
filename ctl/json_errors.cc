// --json failures as JSON objects (docs/json.md): whatever a command said on
// stderr becomes {"error": {...}} on stdout when it printed no document.
#include <algorithm>
#include <ostream>
#include <sstream>
#include <streambuf>

#include "ctl/ctl.h"
#include "ctl/json.h"

namespace ringfence::ctl {
namespace {

// Passes everything on and counts it: did the command print a document?
class CountingBuf : public std::streambuf {
 public:
  explicit CountingBuf(std::streambuf* to) : to_(to) {}
  size_t written() const { return written_; }

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    ++written_;
    return to_->sputc(static_cast<char>(c));
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    written_ += static_cast<size_t>(n);
    return to_->sputn(s, n);
  }
  int sync() override { return to_->pubsync(); }

 private:
  std::streambuf* to_;
  size_t written_ = 0;
};

}  // namespace

const char* exitKind(int code) {
  switch (code) {
    case kExitOk:
      return "ok";
    case kExitRefused:
      return "refused";
    case kExitUsage:
      return "usage";
    case kExitUnreachable:
      return "unreachable";
    case kExitAccessDenied:
      return "access-denied";
    case kExitNoSuchDevice:
      return "no-such-device";
  }
  return "failed";
}

std::string errorDocument(int code, const std::string& said) {
  std::vector<std::string> lines;
  std::istringstream in(said);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Try 'ringfencectl --help'", 0) == 0 || line.empty()) continue;
    if (line.rfind("ringfencectl: ", 0) == 0) line.erase(0, 14);
    lines.push_back(line);
  }
  JsonWriter j;
  j.beginObject().key("error").beginObject();
  j.key("exit_code").value(code).key("kind").value(exitKind(code));
  j.key("message").value(lines.empty() ? std::string(exitKind(code)) : lines.front());
  j.key("details").beginArray();
  for (size_t i = 1; i < lines.size(); ++i) j.value(lines[i]);
  j.endArray().endObject().endObject();
  return j.str() + "\n";
}

int runCtl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (std::find(args.begin(), args.end(), "--json") == args.end())
    return runCommand(args, out, err);
  CountingBuf counted(out.rdbuf());
  std::ostream document(&counted);
  std::ostringstream said;
  int code = runCommand(args, document, said);
  document.flush();
  if (code != kExitOk && counted.written() == 0)
    out << errorDocument(code, said.str());
  else
    err << said.str();
  return code;
}

}  // namespace ringfence::ctl
