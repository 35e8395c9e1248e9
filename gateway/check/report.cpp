#include "gateway/check/report.hpp"

#include <cstdio>

namespace gw::gateway {
namespace {

constexpr mapping::Owner root_owner{0, 0};

// The view's own directories above each home. OpenSSH's ChrootDirectory
// demands every component be root-owned and not group/other writable.
NodeReport synthetic_node(std::string path) {
  NodeReport node;
  node.path = std::move(path);
  node.kind = NodeKind::synthetic;
  node.presented_name = "root";
  node.presented = root_owner;
  node.stored = root_owner;
  node.stored_from = StoredFrom::synthetic;
  node.mode = 0755;
  return node;
}

NodeReport backed_node(const mapping::User& user, std::string path, NodeKind kind, std::string backing) {
  NodeReport node;
  node.path = std::move(path);
  node.kind = kind;
  node.presented_name = user.name;
  node.presented = mapping::Owner{user.uid, user.gid};
  node.backing = std::move(backing);
  node.folder = probe_folder(node.backing);
  if (node.folder.exists) node.mode = node.folder.mode;
  return node;
}

// The home is stored as the user: it is theirs alone.
NodeReport home_node(const mapping::UserPlan& plan) {
  NodeReport node = backed_node(plan.user, plan.home + "/", NodeKind::home, plan.home_backing);
  node.umask = plan.home_umask;
  node.stored = node.presented;
  node.stored_from = StoredFrom::user;
  return node;
}

StoredFrom stored_from(mapping::OwnerFrom from) {
  switch (from) {
    case mapping::OwnerFrom::rule: return StoredFrom::rule;
    case mapping::OwnerFrom::folder: return StoredFrom::folder;
    case mapping::OwnerFrom::nobody: return StoredFrom::nobody;
  }
  return StoredFrom::unknown;
}

// A mapped volume keeps its owner (mapping::stored_owner, as the view
// decides it): owner= if the rule gives one, else the folder's own, so a
// volume owned by 54321 stays owned by 54321.
NodeReport mount_node(const mapping::UserPlan& plan, const mapping::MountPlan& mount) {
  NodeReport node = backed_node(plan.user, plan.home + "/" + mount.name + "/", NodeKind::mount, mount.backing);
  node.mount = &mount;
  node.umask = mount.umask;
  if (!mount.owner && !node.folder.exists) {
    node.stored_from = StoredFrom::unknown;
    return node;
  }
  const mapping::StoredOwner stored =
      mapping::stored_owner(mount.access, mount.owner, mapping::Owner{node.folder.uid, node.folder.gid});
  node.stored = stored.owner;
  node.stored_from = stored_from(stored.from);
  return node;
}

UserReport user_report(const mapping::UserPlan& plan) {
  UserReport report;
  report.user = plan.user;
  report.nodes.push_back(synthetic_node("data/"));
  // The chroot: root and the user's group, 0750, so the kernel keeps every
  // other uid out (as serve presents it).
  NodeReport chroot = synthetic_node(plan.chroot + "/");
  chroot.presented.gid = plan.user.gid;
  chroot.stored.gid = plan.user.gid;
  chroot.mode = 0750;
  report.nodes.push_back(chroot);
  report.nodes.push_back(home_node(plan));
  for (const mapping::MountPlan& mount : plan.mounts) report.nodes.push_back(mount_node(plan, mount));
  return report;
}

}  // namespace

std::size_t CheckReport::mount_count() const {
  std::size_t count = 0;
  for (const UserReport& user : users) {
    for (const NodeReport& node : user.nodes) count += node.kind == NodeKind::mount ? 1 : 0;
  }
  return count;
}

CheckReport gather_report(const mapping::Plan& plan, const mapping::Paths& paths) {
  CheckReport report;
  for (const mapping::UserPlan& user : plan.users) report.users.push_back(user_report(user));
  // Valid (an instance may start empty and get users by reload), but
  // rarely what the admin meant.
  if (plan.users.empty()) report.warnings.push_back(Warning{"users", "no users configured (--users or SFTP_USERS)"});
  for (Warning& warning : folder_warnings(report, paths)) report.warnings.push_back(std::move(warning));
  report.limits = limit_reports(plan);
  for (const LimitReport& limit : report.limits) {
    if (!limit.problem.empty()) {
      report.warnings.push_back(Warning{"limit " + limit.folder, "cannot count what it holds: " + limit.problem});
    } else if (limit.unreadable != 0) {
      report.warnings.push_back(Warning{"limit " + limit.folder, std::to_string(limit.unreadable) +
                                                                     " subfolder(s) could not be read; what they "
                                                                     "hold is not counted here"});
    }
  }
  return report;
}

std::string octal_mode(std::uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
  return buf;
}

std::vector<std::string> option_words(const mapping::MountPlan& mount) {
  std::vector<std::string> words{mount.access == mapping::Access::read_only ? "ro" : "rw"};
  if (mount.owner) words.push_back("owner=" + std::to_string(mount.owner->uid) + ":" + std::to_string(mount.owner->gid));
  if (mount.symlinks) words.emplace_back("symlinks");
  if (!mount.atomic) words.emplace_back("noatomic");
  return words;
}

std::string_view kind_name(NodeKind kind) {
  switch (kind) {
    case NodeKind::synthetic: return "synthetic";
    case NodeKind::home: return "home";
    case NodeKind::mount: return "mount";
  }
  return "?";
}

std::string_view stored_from_name(StoredFrom from) {
  switch (from) {
    case StoredFrom::synthetic: return "synthetic";
    case StoredFrom::user: return "user";
    case StoredFrom::rule: return "owner=";
    case StoredFrom::folder: return "folder";
    case StoredFrom::nobody: return "nobody";
    case StoredFrom::unknown: return "unknown";
  }
  return "?";
}

}  // namespace gw::gateway
