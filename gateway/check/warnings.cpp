// Warnings about the real backing folders: what serve accepts but an admin
// may not have meant. None of them changes check's exit code. What serve
// refuses (a missing or unopenable folder, a root-owned writable one without
// owner=) is a problem, found by preflight() before the report is gathered.
#include <algorithm>
#include <map>
#include <set>
#include <filesystem>
#include <functional>

#include "gateway/check/report.hpp"

namespace gw::gateway {
namespace {

using Warn = std::function<void(std::string)>;

std::string uid_text(std::uint32_t uid) { return "uid " + std::to_string(uid) + (uid == 0 ? " (root)" : ""); }

void home_owner_warning(const NodeReport& node, const Warn& warn) {
  if (node.folder.uid != node.stored.uid) {
    warn("home folder " + node.backing + " is owned by " + uid_text(node.folder.uid) + ", not by " +
         node.presented_name + " (uid " + std::to_string(node.stored.uid) + ")");
  }
}

std::string owner_text(std::uint32_t uid, std::uint32_t gid) { return std::to_string(uid) + ":" + std::to_string(gid); }

void mount_owner_warning(const NodeReport& node, const Warn& warn) {
  const auto& owner = node.mount->owner;
  const FolderState& folder = node.folder;
  if (owner && folder.uid != owner->uid) {
    warn("the rule says owner=" + owner_text(owner->uid, owner->gid) + " but " + node.backing + " is owned by " +
         uid_text(folder.uid) + "; new files will be stored as " + std::to_string(owner->uid) +
         ", existing ones keep their owner");
  }
}

// parent: the data-dir for a home, the volumes-dir for a mount.
void node_warnings(const NodeReport& node, const FolderState& parent, const std::string& parent_path,
                   std::vector<Warning>& out) {
  const Warn warn = [&](std::string message) { out.push_back(Warning{node.path, std::move(message)}); };
  const FolderState& folder = node.folder;
  const bool home = node.kind == NodeKind::home;
  if (!folder.error.empty()) {
    warn("cannot inspect " + node.backing + ": " + folder.error);
    return;
  }
  if (!folder.exists) {
    if (home) warn("home folder " + node.backing + " is missing; serve will create it");
    return;
  }
  if (home) home_owner_warning(node, warn);
  else mount_owner_warning(node, warn);
  // Another filesystem usually means a forgotten or stale mount under the
  // folder; the view would serve whatever happens to be mounted there. A
  // volume itself (<volumes-dir>/<name>) is its own mount in Docker, so a
  // folder is compared with the folder it sits in, volumes excepted.
  const std::string container = std::filesystem::path(node.backing).parent_path().string();
  if (home || container != parent_path) {
    const FolderState outer = container == parent_path ? parent : probe_folder(container);
    if (outer.exists && outer.device != folder.device)
      warn(node.backing + " is on another filesystem than " + container);
  }
}

// Two read-write mappings overlap when they reach the same folder: the same
// volume and one subdir equal to, or inside, the other.
bool overlaps(const mapping::MountPlan& a, const mapping::MountPlan& b) {
  if (a.volume != b.volume) return false;
  const auto inside = [](const std::string& inner, const std::string& outer) {
    return outer.empty() || inner == outer || inner.starts_with(outer + "/");
  };
  return inside(a.subdir, b.subdir) || inside(b.subdir, a.subdir);
}

struct RwUse {
  const std::string* user;
  const mapping::MountPlan* mount;
};

std::vector<RwUse> read_write_uses(const CheckReport& report) {
  std::vector<RwUse> uses;
  for (const UserReport& user : report.users) {
    for (const NodeReport& node : user.nodes) {
      if (node.mount && node.mount->access == mapping::Access::read_write) uses.push_back({&user.user.name, node.mount});
    }
  }
  return uses;
}

// Several users writing one folder can overwrite each other's files; often
// intended (a shared drop folder), so a warning, not an error.
void shared_write_warnings(const CheckReport& report, std::vector<Warning>& out) {
  // Grouped by volume, then by subdir: only mappings of one volume can
  // overlap, mappings of the same subdir all overlap, and configurations
  // reach tens of thousands of mappings (few distinct subdirs, though).
  std::map<std::string, std::map<std::string, std::vector<RwUse>>> by_volume;
  std::map<std::string, std::size_t> order;  // users in the order the configuration names them
  for (const RwUse& use : read_write_uses(report)) {
    by_volume[use.mount->volume][use.mount->subdir].push_back(use);
    order.try_emplace(*use.user, order.size());
  }
  for (const auto& [volume, groups] : by_volume) {
    std::set<std::string> users;  // users of mappings that overlap another user's
    for (const auto& [subdir, uses] : groups) {
      std::set<std::string> sharing;  // users of every mapping overlapping this subdir
      for (const auto& [other_subdir, others] : groups)
        if (overlaps(*uses.front().mount, *others.front().mount))
          for (const RwUse& use : others) sharing.insert(*use.user);
      if (sharing.size() >= 2) users.insert(sharing.begin(), sharing.end());
    }
    if (users.empty()) continue;
    std::vector<std::string> listed(users.begin(), users.end());
    std::sort(listed.begin(), listed.end(), [&](const auto& a, const auto& b) { return order[a] < order[b]; });
    std::string names;
    for (const std::string& name : listed) names += (names.empty() ? "" : ", ") + name;
    out.push_back(Warning{"volume " + volume, "mapped read-write to several users (" + names + ")"});
  }
}

}  // namespace

std::vector<Warning> folder_warnings(const CheckReport& report, const mapping::Paths& paths) {
  const FolderState data_dir = probe_folder(paths.data_dir);
  const FolderState volumes_dir = probe_folder(paths.volumes_dir);
  std::vector<Warning> out;
  for (const UserReport& user : report.users) {
    for (const NodeReport& node : user.nodes) {
      if (node.kind == NodeKind::home) node_warnings(node, data_dir, paths.data_dir, out);
      if (node.kind == NodeKind::mount) node_warnings(node, volumes_dir, paths.volumes_dir, out);
    }
  }
  shared_write_warnings(report, out);
  return out;
}

}  // namespace gw::gateway
