// Diagnostics: every problem found in the admin's files, with its place.
#pragma once

#include <string>
#include <vector>

#include "policy/shared_text.h"

namespace ringfence::policy {

struct SourceLocation {
  SharedText file;  // one text for every location of a file
  int line = 0;     // 1-based; 0 = the file as a whole
  int column = 0;   // 1-based
  bool operator==(const SourceLocation&) const = default;
};

enum class Severity { Error, Warning };

struct Diagnostic {
  Severity severity = Severity::Error;
  SourceLocation where;
  std::string message;
};

// "FILE:LINE:COLUMN: error: MESSAGE" (the form that admins and editors parse).
std::string formatDiagnostic(const Diagnostic& d);
// "FILE:LINE" — how a rule is named in verdicts and rule comments.
std::string formatLocation(const SourceLocation& where);

class Diagnostics {
 public:
  void error(const SourceLocation& where, std::string message);
  void warning(const SourceLocation& where, std::string message);
  void append(const Diagnostics& other);

  bool hasErrors() const { return errorCount_ > 0; }
  size_t errorCount() const { return errorCount_; }
  const std::vector<Diagnostic>& all() const { return items_; }
  // Errors and warnings, ordered by file, line and column.
  std::vector<Diagnostic> sorted() const;

 private:
  std::vector<Diagnostic> items_;
  size_t errorCount_ = 0;
};

}  // namespace ringfence::policy
