#include "fs/layout_edit.hpp"

#include <sys/stat.h>

#include "fs/layout_builder.hpp"

namespace gw::fs {

using namespace detail;

namespace {

// A served etc/ file's place: its folder (which must exist), its name, and
// the file there now, if any.
struct FilePlace {
  InodePtr dir;
  std::string name;
  InodePtr now;
};

bool place_of(const InodePtr& root, const std::string& path, FilePlace* out) {
  const std::vector<std::string> names = split_path(path);
  if (names.empty()) return false;
  InodePtr dir = root;
  for (std::size_t i = 0; i + 1 < names.size(); ++i) {
    dir = dir->synthetic->child(names[i]);
    if (!dir || !dir->synthetic || !S_ISDIR(dir->synthetic->mode)) return false;
  }
  out->dir = dir;
  out->name = names.back();
  out->now = dir->synthetic->child(out->name);
  return !out->now || (out->now->synthetic && S_ISREG(out->now->synthetic->mode));
}

bool same_kind(const Inode& node, const SyntheticFile& f) {
  return node.synthetic->mode == (S_IFREG | (f.mode & 0777)) && node.synthetic->only_uid == f.only_uid;
}

bool limited(const mapping::UserPlan& up) {
  if (up.home_limit.any()) return true;
  for (const auto& m : up.mounts)
    if (m.limit.any()) return true;
  return false;
}

}  // namespace

bool edit_layout(View& view, UsersEdit& edit) {
  // Limits reach across users (one folder, several mappings): a whole build.
  if (view.quotas().any()) return false;
  for (const auto& up : edit.put)
    if (limited(up)) return false;
  const InodePtr root = view.root();
  const InodePtr data = root ? root->synthetic->child("data") : nullptr;
  const auto served = view.users();
  if (!data || !served) return false;
  for (const auto& name : edit.removed)
    if (!served->count(name)) return false;

  Builder b(view);
  for (const auto& up : edit.put)
    if (!b.user_tree(up) || !b.result.ok()) return false;  // before any new home is made
  struct FileEdit {
    FilePlace place;
    InodePtr node;  // a new node, or the served one with new content
    SyntheticFile* file;
  };
  std::vector<FileEdit> files;
  for (auto& f : edit.files) {
    FileEdit e{{}, nullptr, &f};
    if (!place_of(root, f.path, &e.place)) return false;
    if (e.place.now && same_kind(*e.place.now, f)) {
      e.node = e.place.now;
    } else {
      e.node = std::make_shared<Inode>();
      e.node->id = view.inodes().next_id();
      e.node->synthetic = std::make_shared<Synthetic>();
      e.node->synthetic->mode = S_IFREG | (f.mode & 0777);
      e.node->synthetic->only_uid = f.only_uid;
      e.node->synthetic->set_content(f.content);
    }
    files.push_back(std::move(e));
  }
  std::vector<FilePlace> gone;
  for (const auto& path : edit.removed_files) {
    FilePlace p;
    if (!place_of(root, path, &p) || !p.now) return false;
    gone.push_back(std::move(p));
  }
  b.make_new_homes();
  if (!b.result.ok()) return false;

  // Nothing can fail from here on.
  for (auto& [home, mounts] : b.pending_mounts) home->set_mounts(std::move(mounts));
  std::vector<std::string> names_changed;  // in data/
  for (auto& [name, tree] : b.users) {
    view.put_user(name, tree);
    data->synthetic->set_child(name + "-chroot", tree->chroot);
    names_changed.push_back(name + "-chroot");
  }
  for (const auto& name : edit.removed) {
    data->synthetic->remove_child(name + "-chroot");
    view.remove_user(name);
    names_changed.push_back(name + "-chroot");
  }
  std::vector<fuse_ino_t> contents_changed;
  struct fuse_session* se = view.session();
  for (auto& e : files) {
    if (e.node == e.place.now) {
      if (*e.node->synthetic->content() == e.file->content) continue;
      e.node->synthetic->set_content(std::move(e.file->content));
      contents_changed.push_back(e.node->id);
      continue;
    }
    e.place.dir->synthetic->set_child(e.place.name, e.node);
    view.pin_extra(e.node);
    if (e.place.now) view.unpin_extra(e.place.now);
    if (se) fuse_lowlevel_notify_inval_entry(se, e.place.dir->id, e.place.name.c_str(), e.place.name.size());
  }
  for (const auto& p : gone) {
    p.dir->synthetic->remove_child(p.name);
    view.unpin_extra(p.now);
    if (se) fuse_lowlevel_notify_inval_entry(se, p.dir->id, p.name.c_str(), p.name.size());
  }
  // What the kernel cached of the changed names and files goes.
  if (se)
    for (const auto& name : names_changed) fuse_lowlevel_notify_inval_entry(se, data->id, name.c_str(), name.size());
  view.invalidate_files(contents_changed);
  return true;
}

}  // namespace gw::fs
