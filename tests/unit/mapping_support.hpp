// Shared by the mapping unit tests: parse as the environment variables would
// be parsed, and look problems up by their one-line form.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "mapping/parse.hpp"

namespace gw::test {

inline mapping::Parsed parse_env(std::string_view users, std::string_view rules) {
  return mapping::parse(mapping::Input{mapping::split_list(users, "SFTP_USERS"),
                                       mapping::split_list(rules, "SFTP_VOLUMES")});
}

// A rule with the default options. (Designated initializers that leave out
// members without a default, like Rule::subdir, trip -Wmissing-field-initializers.)
inline mapping::Rule make_rule(std::string volume, std::string user, std::string mount,
                               std::string subdir = "") {
  mapping::Rule rule;
  rule.volume = std::move(volume);
  rule.subdir = std::move(subdir);
  rule.user = std::move(user);
  rule.mount = std::move(mount);
  return rule;
}

// Every problem line, one per line, for INFO() when a check fails.
inline std::string all_lines(const mapping::Parsed& parsed) {
  std::string text;
  for (const auto& problem : parsed.problems) text += problem.line() + "\n";
  return text;
}

// Some problem's line contains every fragment.
inline bool has_line(const mapping::Parsed& parsed,
                     std::initializer_list<std::string_view> fragments) {
  return std::any_of(parsed.problems.begin(), parsed.problems.end(), [&](const auto& problem) {
    const std::string line = problem.line();
    return std::all_of(fragments.begin(), fragments.end(), [&](std::string_view fragment) {
      return line.find(fragment) != std::string::npos;
    });
  });
}

inline bool has_exact_line(const mapping::Parsed& parsed, std::string_view expected) {
  return std::any_of(parsed.problems.begin(), parsed.problems.end(),
                     [&](const auto& problem) { return problem.line() == expected; });
}

}  // namespace gw::test
