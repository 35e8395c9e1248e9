#include "plan.hpp"

#include <algorithm>
#include <map>

namespace gw::mapping {

namespace {

// base + "/" + name with exactly one slash between them; the directories come
// from configuration and may end in '/', the names never start with one.
std::string join_path(std::string_view base, std::string_view name) {
  if (name.empty()) return std::string(base);
  while (base.size() > 1 && base.back() == '/') base.remove_suffix(1);
  if (base.empty()) return std::string(name);
  return std::string(base) + (base.back() == '/' ? "" : "/") + std::string(name);
}

MountPlan plan_mount(const Rule& rule, const Paths& paths) {
  return MountPlan{
      .name = rule.mount,
      .volume = rule.volume,
      .subdir = rule.subdir,
      .backing = join_path(join_path(paths.volumes_dir, rule.volume), rule.subdir),
      .access = rule.access,
      .owner = rule.owner,
      .symlinks = rule.symlinks,
      .atomic = rule.atomic,
      .limit = rule.limit,
      .umask = rule.umask.value_or(022),
  };
}

}  // namespace

const UserPlan* Plan::find(std::string_view user) const {
  const auto it = std::find_if(users.begin(), users.end(),
                               [&](const UserPlan& plan) { return plan.user.name == user; });
  return it == users.end() ? nullptr : &*it;
}

Plan make_plan(const Model& model, const Paths& paths) {
  // Rules grouped by user first: one pass over each list, whatever their sizes.
  std::map<std::string_view, std::vector<const Rule*>> rules_of;
  for (const Rule& rule : model.rules) rules_of[rule.user].push_back(&rule);
  Plan plan;
  for (const User& user : model.users) {
    UserPlan& entry = plan.users.emplace_back();
    entry.user = user;
    entry.chroot = "data/" + user.name + "-chroot";
    entry.home = entry.chroot + "/" + user.name;
    entry.home_backing = join_path(paths.data_dir, user.name);
    entry.home_limit = user.limit;
    // Mounts keep the order of the rules, so what `gateway check` prints
    // follows the list the admin wrote.
    if (const auto it = rules_of.find(user.name); it != rules_of.end())
      for (const Rule* rule : it->second) entry.mounts.push_back(plan_mount(*rule, paths));
  }
  return plan;
}

StoredOwner stored_owner(Access access, const std::optional<Owner>& owner, Owner folder) {
  if (owner) return StoredOwner{*owner, OwnerFrom::rule, {}};
  if (folder.uid != 0 && folder.gid != 0) return StoredOwner{folder, OwnerFrom::folder, {}};
  if (access == Access::read_write) {
    return StoredOwner{folder, OwnerFrom::folder,
                       "is owned by root; files would be stored as root: add owner=UID:GID to the rule"};
  }
  const Owner reader{folder.uid == 0 ? kNobody : folder.uid, folder.gid == 0 ? kNobody : folder.gid};
  return StoredOwner{reader, OwnerFrom::nobody, {}};
}

}  // namespace gw::mapping
