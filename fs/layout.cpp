#include "fs/layout.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace gw::fs {
namespace {

InodePtr synthetic_dir(View& view, fuse_ino_t id, uid_t only_uid = 0) {
  auto node = std::make_shared<Inode>();
  node->id = id ? id : view.inodes().next_id();
  node->synthetic = std::make_shared<Synthetic>();
  node->synthetic->only_uid = only_uid;
  return node;
}

std::string errno_text(int err) { return std::strerror(err); }

// The home is created on first start, owned by the user. It is made 0700
// by root first, so nobody can use it before it has its final owner.
int ensure_home(const std::string& path, const mapping::User& user) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return 0;
  if (errno != ENOENT) return errno;
  if (::mkdir(path.c_str(), 0700) != 0) return errno;
  if (::chown(path.c_str(), user.uid, user.gid) != 0 || ::chmod(path.c_str(), 0750) != 0) {
    const int err = errno;
    ::rmdir(path.c_str());
    return err;
  }
  return 0;
}

struct Builder {
  View& view;
  LayoutResult result;

  InodePtr mapping_root(const std::string& backing, const std::string& label, const mapping::User& user,
                        std::optional<mapping::Owner> owner, const mapping::MountPlan* rule,
                        const std::string& view_path) {
    auto fd = open_trusted_root(backing);
    if (!fd.ok()) {
      result.problems.push_back(label + ": cannot open " + backing + ": " + errno_text(fd.err));
      return nullptr;
    }
    struct stat st {};
    if (const int e = sys::fstat(fd.value.get(), &st)) {
      result.problems.push_back(label + ": cannot stat " + backing + ": " + errno_text(e));
      return nullptr;
    }
    const mapping::Owner stored = owner ? *owner : mapping::Owner{st.st_uid, st.st_gid};
    if (stored.uid == 0 || stored.gid == 0) {
      result.problems.push_back(label + ": " + backing +
                                " is owned by root; files would be stored as root: add owner=UID:GID to the rule");
      return nullptr;
    }
    auto handle_root = sys::reopen(view.proc_fd(), fd.value.get(), O_RDONLY | O_DIRECTORY);
    if (!handle_root.ok()) {
      result.problems.push_back(label + ": cannot open " + backing + ": " + errno_text(handle_root.err));
      return nullptr;
    }
    auto root = std::make_shared<MappingRoot>();
    root->handle_root = std::move(handle_root.value);
    root->id = view.next_mapping_id();
    root->label = label;
    root->user = user;
    root->stored = stored;
    if (rule) {
      root->read_only = rule->access == mapping::Access::read_only;
      root->symlinks = rule->symlinks;
      root->atomic = rule->atomic;
    }
    root->dev = st.st_dev;
    root->root = std::make_shared<const BackingFd>(std::move(fd.value));
    auto node = std::make_shared<Inode>();
    node->id = view.inodes().next_id();
    node->mapping = root;
    node->dev = st.st_dev;
    node->ino = st.st_ino;
    node->type = S_IFDIR;
    node->pinned = root->root;
    node->is_root = true;
    node->set_place(nullptr, view_path);
    result.layout.pinned.push_back(node);
    return node;
  }

  InodePtr user_tree(const mapping::UserPlan& up) {
    const std::string who = "user " + up.user.name;
    if (const int e = ensure_home(up.home_backing, up.user)) {
      result.problems.push_back(who + ": cannot create home " + up.home_backing + ": " + errno_text(e));
      return nullptr;
    }
    auto home = mapping_root(up.home_backing, up.user.name + ":~", up.user,
                             mapping::Owner{up.user.uid, up.user.gid}, nullptr, "/" + up.user.name);
    auto mounts = std::make_shared<std::map<std::string, InodePtr>>();
    for (const auto& m : up.mounts) {
      auto node = mapping_root(m.backing, up.user.name + ":" + m.name, up.user, m.owner, &m,
                               "/" + up.user.name + "/" + m.name);
      if (node) (*mounts)[m.name] = node;
    }
    if (!home) return nullptr;
    home->mounts = mounts;
    auto chroot = synthetic_dir(view, 0, up.user.uid);
    chroot->synthetic->entries[up.user.name] = home;
    result.layout.pinned.push_back(chroot);
    return chroot;
  }

  // The node at `names` in the currently served tree, to keep file inodes
  // stable across reloads.
  InodePtr served_file(const std::vector<std::string>& names) {
    InodePtr node = view.root();
    for (const auto& n : names) {
      if (!node || !node->synthetic) return nullptr;
      const auto it = node->synthetic->entries.find(n);
      node = it == node->synthetic->entries.end() ? nullptr : it->second;
    }
    return node && node->synthetic && S_ISREG(node->synthetic->mode) ? node : nullptr;
  }

  void add_file(const InodePtr& root, const SyntheticFile& f) {
    std::istringstream parts(f.path);
    std::string part;
    std::vector<std::string> names;
    while (std::getline(parts, part, '/'))
      if (!part.empty()) names.push_back(part);
    InodePtr dir = root;
    for (std::size_t i = 0; i + 1 < names.size(); ++i) {
      auto& slot = dir->synthetic->entries[names[i]];
      if (!slot) {
        slot = synthetic_dir(view, 0);
        result.layout.pinned.push_back(slot);
      }
      dir = slot;
    }
    InodePtr file = served_file(names);
    if (!file || file->synthetic->mode != (S_IFREG | (f.mode & 0777)) || file->synthetic->only_uid != f.only_uid) {
      file = std::make_shared<Inode>();
      file->id = view.inodes().next_id();
      file->synthetic = std::make_shared<Synthetic>();
      file->synthetic->mode = S_IFREG | (f.mode & 0777);
      file->synthetic->only_uid = f.only_uid;
    }
    file->synthetic->set_content(f.content);
    dir->synthetic->entries[names.back()] = file;
    result.layout.pinned.push_back(file);
  }
};

}  // namespace

LayoutResult build_layout(const mapping::Plan& plan, const std::vector<SyntheticFile>& files, View& view) {
  Builder b{view, {}};
  auto root = synthetic_dir(view, FUSE_ROOT_ID);
  auto data = synthetic_dir(view, 0);
  root->synthetic->entries["data"] = data;
  b.result.layout.root = root;
  b.result.layout.pinned = {root, data};
  for (const auto& up : plan.users) {
    if (auto chroot = b.user_tree(up)) data->synthetic->entries[up.user.name + "-chroot"] = chroot;
  }
  for (const auto& f : files) b.add_file(root, f);
  if (!b.result.ok()) b.result.layout = Layout{};
  return std::move(b.result);
}

}  // namespace gw::fs
