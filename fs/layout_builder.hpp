// Internal to fs/: what builds users' trees, shared by a whole build
// (fs/layout.hpp) and an edit of a few users (fs/layout_edit.hpp), so both
// open, reuse and make homes the same way.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fs/layout.hpp"

namespace gw::fs::detail {

InodePtr synthetic_dir(View& view, fuse_ino_t id, uid_t only_uid = 0);

std::string errno_text(int err);

std::vector<std::string> split_path(const std::string& path);

// The folder of the homes (the data dir, from trusted configuration),
// opened once per build: every home is made and checked relative to it.
sys::Result<UniqueFd> open_data_dir(const std::string& path);

// The folder <data dir> of a home <data dir>/<user> (mapping::make_plan).
std::string data_dir_of(const mapping::UserPlan& up);

// The user's home <data dir>/<name>: an existing folder is kept as it is; a
// missing one is made 0700 by root, then given its owner and mode through a
// descriptor of the folder just made, never by path, so nobody can use it
// before it has its final owner and a name swapped meanwhile for a symlink
// redirects nothing. Anything but a folder under that name (a symlink, a
// file) is refused (ELOOP, ENOTDIR), never followed.
int ensure_home(int proc_fd, int data_dir, const std::string& name, const mapping::User& user);

// The file node at `names` in the currently served tree, to keep file
// inodes stable across reloads.
InodePtr served_file(const View& view, const std::vector<std::string>& names);

// Builds users' trees into `result`, reusing what the served layout has.
struct Builder {
  explicit Builder(View& v) : view(v), previous_users(v.users()) {}

  View& view;
  LayoutResult result;
  std::shared_ptr<const UserTrees> previous_users;
  UserTrees users;
  std::size_t mappings = 0;
  UserTree* building = nullptr;  // the user tree being built, collecting its inodes

  void problem(const std::string& label, const std::string& what) { result.problems.push_back(label + ": " + what); }

  // Takes over what `other` built (users after this one's): its problems
  // after this one's, its trees, and the homes and mounts it left pending.
  void absorb(Builder&& other) {
    auto& problems = result.problems;
    problems.insert(problems.end(), other.result.problems.begin(), other.result.problems.end());
    users.merge(other.users);
    mappings += other.mappings;
    new_homes.insert(new_homes.end(), other.new_homes.begin(), other.new_homes.end());
    pending_mounts.insert(pending_mounts.end(), other.pending_mounts.begin(), other.pending_mounts.end());
  }

  std::shared_ptr<MappingRoot> open_root(const std::string& backing, const mapping::MountPlan* rule,
                                         const std::string& label, const std::optional<mapping::Owner>& owner,
                                         struct stat* st, std::optional<BackingFd>* out) {
    MappedFolder folder = open_mapped_folder(backing, rule ? rule->subdir : std::string(), owner,
                                             rule ? rule->access : mapping::Access::read_write);
    if (!folder.fd) return problem(label, folder.problem), nullptr;
    *st = folder.st;
    auto root = std::make_shared<MappingRoot>();
    root->stored = folder.stored.owner;
    auto mount_fd = view.mount_fd(st->st_dev, folder.fd->get());
    if (!mount_fd.ok()) return problem(label, "cannot open " + backing + ": " + errno_text(mount_fd.err)), nullptr;
    root->mount_fd = mount_fd.value;
    root->dev = st->st_dev;
    out->emplace(std::move(*folder.fd));
    return root;
  }

  // `kept`: the served root to reuse (reusable_root), else null and the
  // folder is opened.
  InodePtr mapping_root(InodePtr kept, const std::string& backing, const std::string& label, const mapping::User& user,
                        std::optional<mapping::Owner> owner, const mapping::MountPlan* rule,
                        const std::string& view_path, mode_t umask, mapping::EventKinds events) {
    if (kept) return keep(std::move(kept));
    struct stat st {};
    std::optional<BackingFd> fd;
    auto root = open_root(backing, rule, label, owner, &st, &fd);
    if (!root) return nullptr;
    root->id = view.next_mapping_id();
    root->label = label;
    root->user = user;
    root->counters = view.metrics().mapping(label, user.name);
    root->umask = umask & 0777;
    root->view_path = view_path;
    root->events = events;
    if (rule) {
      root->read_only = rule->access == mapping::Access::read_only;
      root->symlinks = rule->symlinks;
      root->atomic = rule->atomic;
      root->volume = rule->volume;
      root->volume_folder = rule->subdir;
    }
    auto node = std::make_shared<Inode>();
    node->id = view.inodes().next_id();
    node->mapping = root;
    node->dev = st.st_dev;
    node->ino = st.st_ino;
    node->type = S_IFDIR;
    node->handle = handle_of(fd->get());
    // Without a file handle the root's fd stays open: the fallback for
    // filesystems that cannot make handles.
    if (node->handle.empty()) node->pinned = std::make_shared<const BackingFd>(std::move(*fd));
    node->is_root = true;
    node->set_place(nullptr, view_path);
    return keep(node);
  }

  // The served tree of this user, if any.
  const UserTree* previous_tree(const std::string& user) const {
    if (!previous_users) return nullptr;
    const auto it = previous_users->find(user);
    return it == previous_users->end() ? nullptr : it->second.get();
  }

  // The served root `label` of `before`, to reuse when what it was opened and
  // set up from did not change (`same`: the home's or the mount's plan, a
  // limit aside, which the quotas of every build apply to every root), nor
  // the user's ids. (The stored owner is then the one found when the root
  // was built: chowning a volume takes a restart or a changed rule.)
  static InodePtr reusable_root(const UserTree* before, const mapping::UserPlan& up, const std::string& label, bool same) {
    if (!before || !same || before->plan.user.uid != up.user.uid || before->plan.user.gid != up.user.gid) return nullptr;
    for (const auto& node : before->roots)
      if (node->mapping->label == label) return node;
    return nullptr;
  }

  static bool same_mount(const UserTree* before, const mapping::MountPlan& m) {
    if (!before) return false;
    for (mapping::MountPlan was : before->plan.mounts)
      if (was.name == m.name) {
        was.limit = m.limit;
        return was == m;
      }
    return false;
  }

  static bool same_home(const UserTree* before, const mapping::UserPlan& up) {
    return before && before->plan.home_backing == up.home_backing && before->plan.home_umask == up.home_umask &&
           before->plan.home_events == up.home_events;
  }

  InodePtr keep(InodePtr node) {
    ++mappings;
    building->roots.push_back(node);
    building->pinned.push_back(node);
    return node;
  }

  // An unchanged user's tree is taken over whole. A new tree keeps `up`
  // (moved in by a whole build, whose plan is not needed after it: one copy
  // of each user's plan, not two, at the height of a start).
  InodePtr user_tree(mapping::UserPlan up) {
    if (previous_users)
      if (const auto it = previous_users->find(up.user.name); it != previous_users->end() && it->second->plan == up) {
        mappings += it->second->roots.size();
        return adopt(*(users[up.user.name] = it->second));
      }
    auto fresh = std::make_shared<UserTree>();
    users[up.user.name] = fresh;
    UserTree& tree = *fresh;
    tree.plan = std::move(up);
    building = &tree;
    tree.chroot = build_user_tree(tree.plan);
    building = nullptr;
    if (!tree.chroot) return nullptr;
    tree.pinned.push_back(tree.chroot);
    return adopt(tree);
  }

  // The tree's inodes are pinned by View::install or View::put_user, not
  // through the layout's own list: an unchanged tree is not pinned again.
  InodePtr adopt(const UserTree& tree) { return tree.chroot; }

  InodePtr build_user_tree(const mapping::UserPlan& up) {
    const UserTree* before = previous_tree(up.user.name);
    auto mounts = std::make_shared<Inode::Mounts>();
    for (const auto& m : up.mounts) {
      const std::string label = up.user.name + ":" + m.name;
      auto node = mapping_root(reusable_root(before, up, label, same_mount(before, m)), m.backing, label, up.user,
                               m.owner, &m, "/" + up.user.name + "/" + m.name, m.umask, m.events);
      if (node) (*mounts)[m.name] = node;
    }
    // root:<user's group> 0750: still what OpenSSH demands of a chroot (root
    // owned, no group/other write), and the kernel itself now keeps every
    // other uid out, even for names it has cached.
    auto chroot = synthetic_dir(view, 0, up.user.uid);
    chroot->synthetic->mode = S_IFDIR | 0750;
    chroot->synthetic->gid = up.user.gid;
    const int dir = data_dir_fd(up);
    if (dir < 0) return nullptr;
    struct stat st {};
    const int found = sys::fstatat_nofollow(dir, up.user.name.c_str(), &st);
    if (found == ENOENT) {
      new_homes.push_back({building, chroot, mounts});  // made once all else succeeded
      return chroot;
    }
    if (found || !S_ISDIR(st.st_mode)) return home_problem(up, found ? found : ENOTDIR), nullptr;
    const InodePtr home = home_root(up, reusable_root(before, up, up.user.name + ":~", same_home(before, up)));
    if (!home) return nullptr;
    attach(chroot, up.user.name, home, mounts);
    return chroot;
  }

  // `kept`: the served home root to reuse; null for a home just made.
  InodePtr home_root(const mapping::UserPlan& up, InodePtr kept) {
    return mapping_root(std::move(kept), up.home_backing, up.user.name + ":~", up.user, mapping::Owner{up.user.uid, up.user.gid},
                        nullptr, "/" + up.user.name, up.home_umask, up.home_events);
  }

  void attach(const InodePtr& chroot, const std::string& user, const InodePtr& home,
              std::shared_ptr<const Inode::Mounts> mounts) {
    chroot->synthetic->entries[user] = home;
    pending_mounts.emplace_back(home, std::move(mounts));
  }

  void home_problem(const mapping::UserPlan& up, int err) {
    const bool not_folder = err == ELOOP || err == ENOTDIR;
    problem("user " + up.user.name, "home " + up.home_backing + ": " +
                                        (not_folder ? "not a folder (a symlink or a file has its name)" : errno_text(err)));
  }

  // The folder of the homes, opened the first time a user needs it (every
  // user's home is in the same one); -1 after a problem.
  int data_dir_fd(const mapping::UserPlan& up) {
    if (!data_dir) {
      data_dir = open_data_dir(data_dir_of(up));
      if (!data_dir->ok())
        problem("user " + up.user.name, "cannot open the data folder " + data_dir_of(up) + ": " + errno_text(data_dir->err));
    }
    return data_dir->ok() ? data_dir->value.get() : -1;
  }
  std::optional<sys::Result<UniqueFd>> data_dir;

  // Makes the homes that did not exist yet, once the rest of the build
  // succeeded: a refused configuration leaves nothing behind on disk.
  void make_new_homes() {
    for (auto& h : new_homes) {
      const mapping::UserPlan& up = h.tree->plan;
      if (const int e = ensure_home(view.proc_fd(), data_dir_fd(up), up.user.name, up.user)) {
        home_problem(up, e);
        continue;
      }
      building = h.tree;
      const InodePtr home = home_root(up, nullptr);
      building = nullptr;
      if (!home) continue;
      attach(h.chroot, up.user.name, home, h.mounts);
    }
  }
  struct NewHome {
    UserTree* tree;  // made by this build, held by `users`
    InodePtr chroot;
    std::shared_ptr<const Inode::Mounts> mounts;
  };
  std::vector<NewHome> new_homes;

  // A reused home gets its new mounts only once the whole build succeeded.
  std::vector<std::pair<InodePtr, std::shared_ptr<const Inode::Mounts>>> pending_mounts;
  // ... and a served file its new content.
  std::vector<std::pair<InodePtr, std::string>> pending_contents;

  void add_file(const InodePtr& root, const SyntheticFile& f) {
    const std::vector<std::string> names = split_path(f.path);
    InodePtr dir = root;
    for (std::size_t i = 0; i + 1 < names.size(); ++i) {
      auto& slot = dir->synthetic->entries[names[i]];
      if (!slot) {
        slot = synthetic_dir(view, 0);
        result.layout.pinned.push_back(slot);
      }
      dir = slot;
    }
    InodePtr file = served_file(view, names);
    if (file && file->synthetic->mode == (S_IFREG | (f.mode & 0777)) && file->synthetic->only_uid == f.only_uid) {
      // Served now: it changes only once the whole build succeeded.
      if (*file->synthetic->content() != f.content) pending_contents.emplace_back(file, f.content);
    } else {
      file = std::make_shared<Inode>();
      file->id = view.inodes().next_id();
      file->synthetic = std::make_shared<Synthetic>();
      file->synthetic->mode = S_IFREG | (f.mode & 0777);
      file->synthetic->only_uid = f.only_uid;
      file->synthetic->set_content(f.content);
    }
    dir->synthetic->entries[names.back()] = file;
    result.layout.pinned.push_back(file);
  }
};

}  // namespace gw::fs::detail
