#include "plan.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

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

}  // namespace

const UserPlan* Plan::find(std::string_view user) const {
  const auto it = std::find_if(users.begin(), users.end(),
                               [&](const UserPlan& plan) { return plan.user.name == user; });
  return it == users.end() ? nullptr : &*it;
}

std::string folder_key(std::string_view volume, std::string_view subdir) {
  return subdir.empty() ? std::string(volume) : std::string(volume) + "/" + std::string(subdir);
}

std::string home_key(std::string_view user) { return "~" + std::string(user); }

MountPlan plan_mount(const Rule& rule, const Paths& paths, const Limit& limit, const Defaults& defaults) {
  return MountPlan{
      .name = rule.mount,
      .volume = rule.volume,
      .subdir = rule.subdir,
      .backing = join_path(join_path(paths.volumes_dir, rule.volume), rule.subdir),
      .access = rule.access,
      .owner = rule.owner,
      .symlinks = rule.symlinks,
      .atomic = rule.atomic,
      .limit = limit,
      .umask = rule.umask.value_or(defaults.umask),
      .events = rule.events.value_or(defaults.events),
  };
}

UserPlan plan_user(const User& user, const Paths& paths, const Defaults& defaults) {
  UserPlan entry;
  entry.user = user;
  entry.chroot = "data/" + user.name + "-chroot";
  entry.home = entry.chroot + "/" + user.name;
  entry.home_backing = join_path(paths.data_dir, user.name);
  entry.home_limit.bytes = user.limit.bytes ? user.limit.bytes : defaults.home_limit.bytes;
  entry.home_limit.files = user.limit.files ? user.limit.files : defaults.home_limit.files;
  entry.home_umask = defaults.umask;
  entry.home_events = defaults.events;
  return entry;
}


Plan make_plan(const Model& model, const Paths& paths, const Defaults& defaults) {
  // Rules grouped by user first: one pass over each list, whatever their sizes.
  std::unordered_map<std::string_view, std::vector<const Rule*>> rules_of;
  rules_of.reserve(model.users.size());
  // A folder's limit reaches every mapping of it, also those whose rule says
  // nothing (parse() has made sure the rules that do agree).
  std::map<std::string, Limit> folder_limits;
  for (const Rule& rule : model.rules) {
    rules_of[rule.user].push_back(&rule);
    if (rule.limit.any()) folder_limits.try_emplace(folder_key(rule.volume, rule.subdir), rule.limit);
  }
  const auto limit_of = [&](const Rule& rule) {
    const auto it = folder_limits.find(folder_key(rule.volume, rule.subdir));
    return it == folder_limits.end() ? Limit{} : it->second;
  };
  Plan plan;
  plan.users.reserve(model.users.size());
  for (const User& user : model.users) {
    UserPlan& entry = plan.users.emplace_back(plan_user(user, paths, defaults));
    // Mounts keep the order of the rules, so what `gateway check` prints
    // follows the list the admin wrote.
    if (const auto it = rules_of.find(user.name); it != rules_of.end()) {
      entry.mounts.reserve(it->second.size());  // exactly: the plan lives as long as the user is served
      for (const Rule* rule : it->second) entry.mounts.push_back(plan_mount(*rule, paths, limit_of(*rule), defaults));
    }
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
