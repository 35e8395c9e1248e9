// Parsing a command line in-process for the option tests: the settings it
// gives, or the usage error it is refused with.
#pragma once

#include <string>
#include <vector>

#include "gateway/exit_codes.hpp"
#include "gateway/options/options.hpp"
#include "support/catch.hpp"

namespace gw::test {

inline gateway::Settings settings(const std::vector<std::string>& args) {
  const gateway::Invocation invocation = gateway::parse_invocation(args);
  REQUIRE(invocation.action == gateway::Invocation::Action::run);
  return invocation.settings;
}

// The whole message of the usage error (every problem's line).
inline std::string usage_error(const std::vector<std::string>& args) {
  try {
    gateway::parse_invocation(args);
  } catch (const gateway::UsageError& e) {
    return e.what();
  }
  FAIL("no UsageError");
  return {};
}

// Every line of the usage error, one per problem.
inline std::vector<std::string> usage_lines(const std::vector<std::string>& args) {
  try {
    gateway::parse_invocation(args);
  } catch (const gateway::UsageError& e) {
    return e.lines();
  }
  FAIL("no UsageError");
  return {};
}

}  // namespace gw::test
