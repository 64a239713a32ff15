// The one-file form of PolicySources:
//
//   ringfence-policy-sources 1\n
//   KIND PATH_BYTES TEXT_BYTES\n PATH \n TEXT \n      (one record per file)
//   end COUNT\n
//
// KIND is config, groups or profile; config and groups at most once and
// before the profiles. Lengths are decimal byte counts, so a path or a text
// may hold any bytes. The closing line makes a truncated file detectable.
#include "policy/sources.h"

#include <charconv>

#include "policy/fnv.h"

namespace ringfence::policy {
namespace {

constexpr std::string_view kHeader = "ringfence-policy-sources 1\n";

void record(const SourceBytes& emit, std::string_view kind, const SourceFile& f) {
  emit(std::string(kind) + ' ' + std::to_string(f.path.size()) + ' ' +
       std::to_string(f.text.size()) + '\n' + f.path.str() + '\n');
  emit(f.text);
  emit("\n");
}

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  bool atEnd() const { return pos_ == s_.size(); }

  std::optional<std::string_view> line() {
    size_t nl = s_.find('\n', pos_);
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view l = s_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return l;
  }

  // `n` bytes then a newline.
  std::optional<std::string> bytes(size_t n) {
    if (s_.size() - pos_ < n + 1 || s_[pos_ + n] != '\n') return std::nullopt;
    std::string out(s_.substr(pos_, n));
    pos_ += n + 1;
    return out;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

std::optional<size_t> number(std::string_view word) {
  if (word.empty() || word.size() > 19 || (word.size() > 1 && word[0] == '0')) return std::nullopt;
  size_t value = 0;
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc() || end != word.data() + word.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  for (size_t start = 0; start <= line.size();) {
    size_t sp = line.find(' ', start);
    if (sp == std::string_view::npos) sp = line.size();
    out.push_back(line.substr(start, sp - start));
    start = sp + 1;
  }
  return out;
}

}  // namespace

std::string serializeSources(const PolicySources& s) { return serializeSources(s, {}); }

void serializeSources(const PolicySources& s, std::string_view before, const SourceBytes& emit) {
  emit(before);
  emit(kHeader);
  size_t count = 0;
  if (s.config) record(emit, "config", *s.config), ++count;
  if (s.groups) record(emit, "groups", *s.groups), ++count;
  for (const SourceFile& f : s.profiles) record(emit, "profile", f), ++count;
  emit("end " + std::to_string(count) + "\n");
}

std::string serializeSources(const PolicySources& s, std::string_view before) {
  size_t size = before.size() + kHeader.size() + 64;  // made once, at its size: it holds every file
  auto room = [&size](const SourceFile& f) { size += f.path.size() + f.text.size() + 64; };
  if (s.config) room(*s.config);
  if (s.groups) room(*s.groups);
  for (const SourceFile& f : s.profiles) room(f);
  std::string out;
  out.reserve(size);
  serializeSources(s, before, [&out](std::string_view bytes) { out += bytes; });
  return out;
}

std::expected<PolicySources, std::string> parseSerializedSources(std::string_view text) {
  if (text.substr(0, kHeader.size()) != kHeader) {
    if (text.starts_with("ringfence-policy-sources ")) {
      return std::unexpected("unsupported version of the saved policy format");
    }
    return std::unexpected("not a saved policy (the first line is not '" +
                           std::string(kHeader.substr(0, kHeader.size() - 1)) + "')");
  }
  Reader r(text.substr(kHeader.size()));
  PolicySources out;
  size_t count = 0;
  for (;;) {
    auto l = r.line();
    if (!l) return std::unexpected("saved policy is truncated (no 'end' line)");
    std::vector<std::string_view> w = words(*l);
    if (w.size() == 2 && w[0] == "end") {
      auto n = number(w[1]);
      if (!n || *n != count) return std::unexpected("saved policy has a wrong file count");
      if (!r.atEnd()) return std::unexpected("saved policy has data after its 'end' line");
      return out;
    }
    if (w.size() != 3) return std::unexpected("saved policy has a malformed record line");
    auto pathBytes = number(w[1]);
    auto textBytes = number(w[2]);
    if (!pathBytes || !textBytes) return std::unexpected("saved policy has a malformed length");
    auto path = r.bytes(*pathBytes);
    std::optional<std::string> body = path ? r.bytes(*textBytes) : std::nullopt;
    if (!body) return std::unexpected("saved policy is truncated inside a file");
    SourceFile f{std::move(*path), std::move(*body)};
    if (w[0] == "config" && !out.config && !out.groups && out.profiles.empty()) {
      out.config = std::move(f);
    } else if (w[0] == "groups" && !out.groups && out.profiles.empty()) {
      out.groups = std::move(f);
    } else if (w[0] == "profile") {
      out.profiles.push_back(std::move(f));
    } else {
      return std::unexpected("saved policy has an unknown or misplaced record");
    }
    ++count;
  }
}

uint64_t sourcesHash(const PolicySources& s) {
  uint64_t h = kFnvBasis;
  serializeSources(s, {}, [&h](std::string_view bytes) { h = fnv1a(h, bytes); });
  return h;
}

}  // namespace ringfence::policy
