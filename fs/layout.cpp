#include "fs/layout.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <exception>
#include <thread>

#include "fs/layout_builder.hpp"
#include "fs/quota_layout.hpp"
#include "fs/upload_sweep.hpp"

namespace gw::fs {

using namespace detail;


MappedFolder open_mapped_folder(const std::string& backing, const std::string& subdir,
                                const std::optional<mapping::Owner>& owner, mapping::Access access) {
  MappedFolder folder;
  // backing is <volumes-dir>/<volume>[/<subdir>]: the subdir is walked
  // confined, beneath the volume's folder.
  const std::string base = subdir.empty() ? backing : backing.substr(0, backing.size() - subdir.size() - 1);
  auto fd = open_trusted_root(base, subdir);
  if (!fd.ok()) {
    folder.problem = "cannot open " + backing + ": " + errno_text(fd.err);
  } else if (const int e = sys::fstat(fd.value.get(), &folder.st)) {
    folder.problem = "cannot stat " + backing + ": " + errno_text(e);
  } else {
    folder.stored = mapping::stored_owner(access, owner, mapping::Owner{folder.st.st_uid, folder.st.st_gid});
    if (!folder.stored.refusal.empty()) folder.problem = backing + " " + folder.stored.refusal;
    else folder.fd.emplace(std::move(fd.value));
  }
  return folder;
}

bool refresh_files(const std::vector<SyntheticFile>& files, View& view) {
  std::vector<std::pair<InodePtr, const SyntheticFile*>> found;
  for (const auto& f : files) {
    InodePtr node = served_file(view, split_path(f.path));
    if (!node || node->synthetic->mode != (S_IFREG | (f.mode & 0777)) || node->synthetic->only_uid != f.only_uid)
      return false;
    found.emplace_back(node, &f);
  }
  std::vector<fuse_ino_t> changed;
  for (const auto& [node, f] : found) {
    if (*node->synthetic->content() == f->content) continue;
    node->synthetic->set_content(f->content);
    changed.push_back(node->id);
  }
  view.invalidate_files(changed);
  return true;
}

bool serves_plan(const View& view, const mapping::Plan& plan) {
  const auto users = view.users();
  if (!users || users->size() != plan.users.size()) return false;
  return std::all_of(plan.users.begin(), plan.users.end(), [&](const mapping::UserPlan& up) {
    const auto it = users->find(up.user.name);
    return it != users->end() && it->second->plan == up;
  });
}

namespace {

// From this many users on, their trees are built on two threads: opening
// their folders (four syscalls each, dear in a VM) is most of a start, and
// the worker has nothing else to do before it mounts.
constexpr std::size_t kTwoThreadsFrom = 512;

// Each user's chroot (null where the user has a problem), in plan order;
// each user's plan is moved into its tree. The second half is built by a
// Builder of its own, then taken into `b`, problems after the first half's,
// so they keep the users' order.
std::vector<InodePtr> build_users(Builder& b, std::vector<mapping::UserPlan>& users) {
  std::vector<InodePtr> chroots(users.size());
  const auto build = [&](Builder& by, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) chroots[i] = by.user_tree(std::move(users[i]));
  };
  if (users.size() < kTwoThreadsFrom) {
    build(b, 0, users.size());
    return chroots;
  }
  const std::size_t half = users.size() / 2;
  Builder other(b.view);
  std::exception_ptr failed;
  std::thread second([&] {
    try {
      build(other, half, users.size());
    } catch (...) {
      failed = std::current_exception();
    }
  });
  try {
    build(b, 0, half);
  } catch (...) {
    second.join();
    throw;
  }
  second.join();
  if (failed) std::rethrow_exception(failed);
  b.absorb(std::move(other));
  return chroots;
}

}  // namespace

LayoutResult build_layout(mapping::Plan plan, const std::vector<SyntheticFile>& files, View& view) {
  Builder b(view);
  auto root = synthetic_dir(view, FUSE_ROOT_ID);
  auto data = synthetic_dir(view, 0);
  root->synthetic->entries["data"] = data;
  b.result.layout.root = root;
  b.result.layout.pinned = {root, data};
  std::vector<std::string> names;  // the plans move into the trees
  names.reserve(plan.users.size());
  for (const auto& up : plan.users) names.push_back(up.user.name + "-chroot");
  const std::vector<InodePtr> chroots = build_users(b, plan.users);
  for (std::size_t i = 0; i < chroots.size(); ++i)
    if (chroots[i]) data->synthetic->entries[std::move(names[i])] = chroots[i];
  for (const auto& f : files) b.add_file(root, f);
  if (b.result.ok()) b.make_new_homes();
  if (!b.result.ok()) {
    b.result.layout = Layout{};
    return std::move(b.result);
  }
  for (auto& [home, mounts] : b.pending_mounts) home->set_mounts(std::move(mounts));
  for (auto& [file, content] : b.pending_contents) file->synthetic->set_content(std::move(content));
  b.result.layout.mappings = b.mappings;
  b.result.layout.users = std::make_shared<UserTrees>(std::move(b.users));
  // A root whose folder is counted against a limit is swept now, before the
  // count (which must not see a dead worker's temporaries); the others on
  // their first lookup (fs/upload_sweep.hpp).
  apply_quotas(view, *b.result.layout.users, [&] {
    std::vector<InodePtr> counted;  // kept roots too: one never looked up is not swept yet
    for (const auto& [name, tree] : *b.result.layout.users)
      for (const auto& node : tree->roots)
        if (node->mapping->quotas()) counted.push_back(node);
    sweep_left_behind(view, std::move(counted));
  });
  return std::move(b.result);
}

}  // namespace gw::fs
