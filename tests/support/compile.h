// Loads a configuration that must be valid (every diagnostic fails the test)
// and compiles it: the common first step of plan, netlink and lab tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "policy/compiler.h"
#include "policy/loader.h"

namespace ringfence::test {

inline policy::Policy loadValidConfig(const std::string& config) {
  policy::LoadOptions o;
  o.configFile = config;
  o.configRequired = true;
  policy::LoadResult r = policy::loadPolicy(o);
  for (const auto& d : r.diagnostics.all()) ADD_FAILURE() << policy::formatDiagnostic(d);
  return std::move(r.policy);
}

inline policy::Plan compileValidConfig(const std::string& config) {
  return policy::compilePlan(loadValidConfig(config));
}

}  // namespace ringfence::test
