// Parsing of the users and rules lists. Pure: text in, model and problems out;
// no I/O. Every problem in the input is reported, not just the first.
#pragma once

#include <string_view>
#include <vector>

#include "model.hpp"
#include "problem.hpp"

namespace gw::mapping {

// Splits a comma-separated list into items labelled "<label> item <n>".
// Surrounding blanks (spaces, tabs) of each item are trimmed; empty items
// (",,", a trailing comma) are skipped and not counted, so n counts the
// non-empty items from 1.
std::vector<Item> split_list(std::string_view text, std::string_view label);

// The configuration as it was given: items with their sources.
struct Input {
  std::vector<Item> users;
  std::vector<Item> rules;
};

struct Parsed {
  Model model;        // the items that parsed and validated
  Problems problems;  // empty when the whole input is valid
  bool ok() const { return problems.empty(); }
};

// What a parse keeps of what it validated: the whole model, or the users
// alone for a caller that only judges the rules (serve's supervisor, whose
// worker parses them again: at 100,000 users the rules are tens of MB).
enum class Keep { model, users };

// Parses and validates users and rules together: syntax of each item, then
// cross-checks (duplicate user or uid, unknown user in a rule with a close
// name suggested, duplicate mount name for one user, two rules limiting one
// folder differently). The problems are the same whatever `keep` says.
Parsed parse(const Input& input, Keep keep = Keep::model);

// The inverse of parse: renders users and rules in the syntax parse accepts,
// so parse(render(m)) == m.
std::string render_users(const std::vector<User>& users);
std::string render_rule(const Rule& rule);
std::string render_rules(const std::vector<Rule>& rules);

}  // namespace gw::mapping
