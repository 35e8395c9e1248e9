#include "change.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "parse_items.hpp"

namespace gw::mapping {

namespace {

// What the change does to one user.
struct UserEdit {
  std::optional<User> added;          // the user's item as it is now (an added or rewritten line)
  bool removed = false;               // the user's item left the configuration
  std::set<std::string> gone_mounts;  // mounts whose rule left
  std::vector<MountPlan> new_mounts;  // mounts whose rule came in, in the order given
};

// Items parsed one by one; nullopt when any of them has a problem or a
// limit, which the whole parse decides (quotas reach across users).
std::optional<std::vector<User>> users_of(const std::vector<Item>& items) {
  std::vector<User> users;
  Problems problems;
  for (const Item& item : items) {
    const detail::UserItem parsed = detail::parse_user_item(item, problems);
    if (!parsed.user || parsed.user->limit.any()) return std::nullopt;
    users.push_back(*parsed.user);
  }
  if (!problems.empty()) return std::nullopt;
  return users;
}

std::optional<std::vector<Rule>> rules_of(const std::vector<Item>& items) {
  std::vector<Rule> rules;
  Problems problems;
  for (const Item& item : items) {
    const detail::RuleItem parsed = detail::parse_rule_item(item, problems);
    if (!parsed.rule || parsed.rule->limit.any()) return std::nullopt;
    rules.push_back(*parsed.rule);
  }
  if (!problems.empty()) return std::nullopt;
  return rules;
}

const MountPlan* mount_named(const UserPlan& plan, const std::string& name) {
  const auto it = std::find_if(plan.mounts.begin(), plan.mounts.end(), [&](const MountPlan& m) { return m.name == name; });
  return it == plan.mounts.end() ? nullptr : &*it;
}

}  // namespace

std::optional<PlanChange> apply_change(const Change& change, const Served& served, const Paths& paths,
                                       const Defaults& defaults) {
  if (defaults.home_limit.any()) return std::nullopt;
  const auto removed_users = users_of(change.removed_users);
  const auto added_users = users_of(change.added_users);
  const auto removed_rules = rules_of(change.removed_rules);
  const auto added_rules = rules_of(change.added_rules);
  if (!removed_users || !added_users || !removed_rules || !added_rules) return std::nullopt;

  std::map<std::string, UserEdit> edits;
  for (const User& u : *removed_users) {
    const UserPlan* now = served.plan_of(u.name);
    if (!now || now->user != u || edits[u.name].removed) return std::nullopt;
    edits[u.name].removed = true;
  }
  std::unordered_set<std::uint32_t> new_uids;
  for (const User& u : *added_users) {
    UserEdit& e = edits[u.name];
    // A second item for one name, or a name still served by an item that stays.
    if (e.added || (served.plan_of(u.name) && !e.removed)) return std::nullopt;
    if (!new_uids.insert(u.uid).second) return std::nullopt;
    e.added = u;
  }
  // A uid is taken when a served user keeps it: one pass over the served users.
  if (!new_uids.empty())
    for (const User& u : *served.users) {
      const auto it = edits.find(u.name);
      if (new_uids.count(u.uid) && (it == edits.end() || !it->second.removed)) return std::nullopt;
    }
  for (const Rule& r : *removed_rules) {
    const UserPlan* now = served.plan_of(r.user);
    const MountPlan* mount = now ? mount_named(*now, r.mount) : nullptr;
    if (!mount || *mount != plan_mount(r, paths, {}, defaults)) return std::nullopt;
    if (!edits[r.user].gone_mounts.insert(r.mount).second) return std::nullopt;
  }
  for (const Rule& r : *added_rules) edits[r.user].new_mounts.push_back(plan_mount(r, paths, {}, defaults));

  PlanChange out;
  out.added_users = *added_users;
  for (auto& [name, e] : edits) {
    const UserPlan* now = served.plan_of(name);
    const std::optional<User> user = e.added ? e.added : (now && !e.removed ? std::optional<User>(now->user) : std::nullopt);
    if (!user) {
      // Gone, or never there: every rule naming it must have gone too.
      if (!e.new_mounts.empty() || !now || e.gone_mounts.size() != now->mounts.size()) return std::nullopt;
      out.removed.push_back(name);
      continue;
    }
    UserPlan plan = plan_user(*user, paths, defaults);
    std::set<std::string> names;
    if (now)
      for (const MountPlan& m : now->mounts)
        if (!e.gone_mounts.count(m.name)) {
          names.insert(m.name);
          plan.mounts.push_back(m);
        }
    for (MountPlan& m : e.new_mounts) {
      if (!names.insert(m.name).second) return std::nullopt;  // one mount name twice
      plan.mounts.push_back(std::move(m));
    }
    if (!now || plan != *now) out.put.push_back(std::move(plan));
  }
  return out;
}

}  // namespace gw::mapping
