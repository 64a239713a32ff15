#include "policy/diagnostic.h"

#include <algorithm>
#include <tuple>

#include "policy/text_check.h"

namespace ringfence::policy {

std::string formatLocation(const SourceLocation& where) {
  return where.file.str() + ":" + std::to_string(where.line);
}

std::string formatDiagnostic(const Diagnostic& d) {
  std::string out = d.where.file.str() + ":" + std::to_string(std::max(d.where.line, 1)) + ":" +
                    std::to_string(std::max(d.where.column, 1)) + ": ";
  switch (d.severity) {
    case Severity::Error:
      out += "error: ";
      break;
    case Severity::Warning:
      out += "warning: ";
      break;
  }
  return out + d.message;
}

namespace {

// Messages quote the admin's values, and they go to terminals, logs and the
// bus: keep them printable UTF-8 whatever the files held.
Diagnostic safe(Severity severity, const SourceLocation& where, std::string message) {
  SourceLocation w = where;
  if (!isPrintableUtf8(w.file)) w.file = escapeForDisplay(w.file);
  if (!isPrintableUtf8(message)) message = escapeForDisplay(message);
  return Diagnostic{severity, std::move(w), std::move(message)};
}

}  // namespace

void Diagnostics::error(const SourceLocation& where, std::string message) {
  items_.push_back(safe(Severity::Error, where, std::move(message)));
  ++errorCount_;
}

void Diagnostics::warning(const SourceLocation& where, std::string message) {
  items_.push_back(safe(Severity::Warning, where, std::move(message)));
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  errorCount_ += other.errorCount_;
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.file.str(), a.where.line, a.where.column) <
           std::tie(b.where.file.str(), b.where.line, b.where.column);
  });
  return out;
}

}  // namespace ringfence::policy
