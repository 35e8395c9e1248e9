#include "fs/view.hpp"

#include <fcntl.h>

#include <ctime>
#include <algorithm>
#include <set>
#include <unordered_set>
#include <stdexcept>
#include <string>

namespace gw::fs {

namespace {

struct timespec now_coarse() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return ts;
}

}  // namespace

View::View(ViewOptions options, AuditTrail audit)
    : options_(options),
      fds_(options.fd_cache),
      audit_(std::move(audit)),
      uploads_(options.upload_tag),
      handles_(options.open_files_per_user, options.open_files_total),
      transport_known_(!options.kernel.io_uring),
      started_(now_coarse()) {
  auto proc = sys::openat(AT_FDCWD, "/proc/self/fd", O_PATH | O_DIRECTORY);
  if (!proc.ok()) throw std::runtime_error("cannot open /proc/self/fd: /proc must be mounted");
  proc_self_fd_ = std::move(proc.value);
}

void View::install(Layout layout) {
  const std::shared_ptr<const UserTrees> before = users();
  const auto served_already = [&](const std::string& name, const std::shared_ptr<const UserTree>& tree) {
    if (!before) return false;
    const auto it = before->find(name);
    return it != before->end() && it->second == tree;
  };
  std::vector<InodePtr> fresh = layout.pinned;
  if (layout.users)
    for (const auto& [name, tree] : *layout.users)
      if (!served_already(name, tree)) fresh.insert(fresh.end(), tree->pinned.begin(), tree->pinned.end());
  inodes_.pin(fresh);
  Layout old;
  {
    std::lock_guard lock(layout_mu_);
    old = std::exchange(layout_, std::move(layout));
  }
  if (old.root) {
    std::unordered_set<fuse_ino_t> kept;
    kept.reserve(fresh.size());
    for (const auto& n : fresh) kept.insert(n->id);
    const auto unpin = [&](const InodePtr& n) {
      if (!kept.count(n->id)) inodes_.unpin(n->id);
    };
    for (const auto& n : old.pinned) unpin(n);
    const std::shared_ptr<const UserTrees> now = users();
    if (old.users)
      for (const auto& [name, tree] : *old.users) {
        const auto it = now ? now->find(name) : UserTrees::const_iterator{};
        if (now && it != now->end() && it->second == tree) continue;  // still served: still pinned
        for (const auto& n : tree->pinned) unpin(n);
      }
  }
  invalidate(old);
}

void View::put_user(const std::string& name, std::shared_ptr<const UserTree> tree) {
  std::unordered_set<fuse_ino_t> kept;
  for (const auto& n : tree->pinned) {
    inodes_.pin(n);
    kept.insert(n->id);
  }
  std::shared_ptr<const UserTree> old;
  {
    std::lock_guard lock(layout_mu_);
    layout_.mappings += tree->roots.size();
    auto& slot = (*layout_.users)[name];
    old = std::exchange(slot, std::move(tree));
    if (old) layout_.mappings -= old->roots.size();
  }
  if (old)
    for (const auto& n : old->pinned)
      if (!kept.count(n->id)) inodes_.unpin(n->id);
}

void View::remove_user(const std::string& name) {
  std::shared_ptr<const UserTree> old;
  {
    std::lock_guard lock(layout_mu_);
    const auto it = layout_.users->find(name);
    if (it == layout_.users->end()) return;
    old = std::move(it->second);
    layout_.users->erase(it);
    layout_.mappings -= old->roots.size();
  }
  for (const auto& n : old->pinned) inodes_.unpin(n->id);
}

void View::pin_extra(InodePtr node) {
  inodes_.pin(node);
  std::lock_guard lock(layout_mu_);
  layout_.pinned.push_back(std::move(node));
}

void View::unpin_extra(const InodePtr& node) {
  {
    std::lock_guard lock(layout_mu_);
    auto& pinned = layout_.pinned;
    const auto it = std::find(pinned.begin(), pinned.end(), node);
    if (it == pinned.end()) return;
    *it = std::move(pinned.back());
    pinned.pop_back();
  }
  inodes_.unpin(node->id);
}

// Tells the kernel to forget what it cached of the old tree: the top-level
// names (so the next lookup of data/ or etc/ finds the new tree) and the
// attributes of every synthetic file (their size may have changed).
void View::invalidate(const Layout& old) const {
  struct fuse_session* se = session_.load();
  if (!se || !old.root) return;
  std::set<std::string> names;
  for (const auto& [name, node] : old.root->synthetic->entries) names.insert(name);
  for (const auto& [name, node] : root()->synthetic->entries) names.insert(name);
  for (const auto& name : names) fuse_lowlevel_notify_inval_entry(se, FUSE_ROOT_ID, name.c_str(), name.size());
  std::vector<fuse_ino_t> files;
  {
    std::lock_guard lock(layout_mu_);
    for (const auto& n : layout_.pinned)
      if (n->synthetic && S_ISREG(n->synthetic->mode)) files.push_back(n->id);
  }
  invalidate_files(files);
}

void View::invalidate_files(const std::vector<fuse_ino_t>& ids) const {
  struct fuse_session* se = session_.load();
  if (!se) return;
  for (const fuse_ino_t id : ids) fuse_lowlevel_notify_inval_inode(se, id, 0, 0);
}

InodePtr View::root() const {
  std::lock_guard lock(layout_mu_);
  return layout_.root;
}

std::size_t View::mappings() const {
  std::lock_guard lock(layout_mu_);
  return layout_.mappings;
}

std::size_t View::user_count() const {
  std::lock_guard lock(layout_mu_);
  return layout_.users ? layout_.users->size() : 0;
}

std::shared_ptr<const UserTrees> View::users() const {
  std::lock_guard lock(layout_mu_);
  return layout_.users;
}

sys::Result<std::shared_ptr<const UniqueFd>> View::mount_fd(dev_t dev, int dir_fd) {
  {
    std::lock_guard lock(mount_fds_mu_);
    if (const auto it = mount_fds_.find(dev); it != mount_fds_.end()) return {it->second, 0};
  }
  auto fd = sys::reopen(proc_fd(), dir_fd, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return {nullptr, fd.err};
  auto shared = std::make_shared<const UniqueFd>(std::move(fd.value));
  std::lock_guard lock(mount_fds_mu_);
  return {mount_fds_.emplace(dev, shared).first->second, 0};
}

View& view_of(fuse_req_t req) { return *static_cast<View*>(fuse_req_userdata(req)); }

}  // namespace gw::fs
