// The commands that work from the files alone: validate, compile, check --offline.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "policy/loader.h"

namespace ringfence::ctl {

struct OutputMode {
  bool json = false;
};

struct CheckArgs {
  std::string device;
  std::optional<std::string> to;
  std::optional<std::string> from;
  std::string proto;
  unsigned port = 0;
};

int runValidate(const policy::LoadOptions& load, OutputMode mode, std::ostream& out,
                std::ostream& err);
int runCompile(const policy::LoadOptions& load, OutputMode mode, std::ostream& out,
               std::ostream& err);
int runCheckOffline(const policy::LoadOptions& load, const CheckArgs& args, OutputMode mode,
                    std::ostream& out, std::ostream& err);

}  // namespace ringfence::ctl
