// A change of a few users and rules to a configuration that is served: the
// users whose plan it changes, found and checked against what is served
// without parsing or checking all the rest again. A reload at 100,000 users
// that adds one costs what that one user costs.
//
// Only the plain case is decided here: a change that is valid as a whole and
// touches no limit. Anything else (a problem in any item, a quota= or
// files=, --home-quota) gives nullopt, and the caller parses the whole
// configuration as at start, which names every problem exactly as it would.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model.hpp"
#include "plan.hpp"

namespace gw::mapping {

// The items that left the configuration and the items that came in.
struct Change {
  std::vector<Item> removed_users, added_users;
  std::vector<Item> removed_rules, added_rules;
};

struct PlanChange {
  std::vector<User> added_users;   // one per Change::added_users item, in that order
  std::vector<UserPlan> put;       // users added, or whose plan changed: their new plan
  std::vector<std::string> removed;  // users served no more
};

// What is served now: each served user's plan by name (null: not served),
// and every served user (for the uids).
struct Served {
  std::function<const UserPlan*(std::string_view name)> plan_of;
  const std::vector<User>* users = nullptr;
};

std::optional<PlanChange> apply_change(const Change& change, const Served& served, const Paths& paths,
                                       const Defaults& defaults);

}  // namespace gw::mapping
