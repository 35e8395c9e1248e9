#include "fs/ops.hpp"
#include "fs/quota_steps.hpp"

#include <optional>

namespace gw::fs::ops {
namespace {

// A mapped folder shown in a home cannot be removed or renamed through it.
bool is_mount_name(const Inode& dir, const char* name) { return dir.is_mount_name(name); }

Outcome remove(fuse_req_t req, const InodePtr& parent, const char* name, Op op) {
  View& view = view_of(req);
  const Caller who = caller_of(req);
  if (Name::too_long(name)) return ENAMETOOLONG;
  if (const Outcome e = view.policy().check(*parent, op, who, name)) return e;
  if (is_mount_name(*parent, name)) return view.policy().refuse(*parent, op, who, EBUSY, "a mapped folder", name);
  const Uploads::Resolved r = view.uploads().resolve(*parent, name);
  if (!r.on_disk) return ENOENT;  // a temporary name (the gateway's own) or not a name
  auto dir = node_fd(view, *parent);
  if (!dir.ok()) return dir.err;
  AsIdentity as(parent->mapping->stored.uid, parent->mapping->stored.gid);
  if (as.error()) return as.error();
  const Departing going(view, *parent, dir.value->get(), r.on_disk->c_str());
  const int err = sys::unlinkat(dir.value->get(), r.on_disk->c_str(), op == Op::rmdir ? AT_REMOVEDIR : 0);
  if (err) return err;
  going.gone();
  if (r.upload) view.uploads().detach(*parent, name);  // removed: nothing left to publish
  return 0;
}

void remove_op(fuse_req_t req, fuse_ino_t parent_id, const char* name, Op op) {
  guarded(req, op == Op::rmdir ? RequestName("rmdir") : RequestName("unlink"), [&] {
    const InodePtr parent = view_of(req).inodes().get(parent_id);
    if (!parent) return ESTALE;
    const Outcome err = remove(req, parent, name, op);
    audit_child(view_of(req), caller_of(req), *parent, name, op, err);
    if (err) return err.err;
    view_of(req).events().removed(*parent, name, op);
    fuse_reply_err(req, 0);
    return 0;
  });
}

// After a rename the moved inode (if the kernel knows it) carries its new
// place, for audit paths.
void update_place(View& view, const InodePtr& to, int dir_fd, const Name& newname) {
  struct stat st {};
  if (sys::fstatat_nofollow(dir_fd, newname.c_str(), &st) != 0) return;
  if (const InodePtr moved = view.inodes().find(to->mapping->id, st.st_dev, st.st_ino))
    moved->set_place(to, newname.str());
}

// `dest`: where `newname` in `to` is in the user's view, for audit lines.
Outcome do_rename(fuse_req_t req, const InodePtr& from, const char* name, const InodePtr& to, const char* newname,
                  unsigned int flags, const std::string& dest) {
  View& view = view_of(req);
  const Caller who = caller_of(req);
  if (Name::too_long(name) || Name::too_long(newname)) return ENAMETOOLONG;
  if (const Outcome e = view.policy().check(*from, Op::rename, who, name, dest)) return e;
  if (const Outcome e = view.policy().check(*to, Op::rename, who, newname, dest)) return e;
  // Never a silent copy: the client sees the failure.
  if (from->mapping->id != to->mapping->id)
    return view.policy().refuse(*from, Op::rename, who, EXDEV, "rename across mappings", name, dest);
  // What is moved would leave one limit for another unseen: as across
  // project quotas on ext4 or XFS, the client copies instead.
  if (!same_quotas(view, *from, *to))
    return view.policy().refuse(*from, Op::rename, who, EXDEV, "rename across limited folders", name, dest);
  if (is_mount_name(*from, name) || is_mount_name(*to, newname))
    return view.policy().refuse(*from, Op::rename, who, EBUSY, "a mapped folder", name, dest);
  const Uploads::Resolved target = view.uploads().resolve(*to, newname);
  if (target.kind == Uploads::Resolved::Kind::reserved)
    return view.policy().refuse(*to, Op::rename, who, EPERM, "name reserved for uploads in progress", newname, dest);
  if (flags & RENAME_WHITEOUT) return EINVAL;
  // An upload in progress holds `newname` in the view, not yet on disk.
  if ((flags & RENAME_NOREPLACE) && target.upload) return EEXIST;
  const Uploads::Resolved source = view.uploads().resolve(*from, name);
  if (!source.on_disk) return ENOENT;
  if (!target.name) return EINVAL;
  // The object takes `newname` itself on disk, also where an upload holds
  // it in the view (that upload is detached below).
  const Name& new_name = *target.name;
  auto old_dir = node_fd(view, *from);
  if (!old_dir.ok()) return old_dir.err;
  auto new_dir = node_fd(view, *to);
  if (!new_dir.ok()) return new_dir.err;
  AsIdentity as(from->mapping->stored.uid, from->mapping->stored.gid);
  if (as.error()) return as.error();
  // What the new name held goes (an exchange keeps both).
  std::optional<Departing> replaced;
  if (!(flags & (RENAME_EXCHANGE | RENAME_NOREPLACE))) replaced.emplace(view, *to, new_dir.value->get(), new_name.c_str());
  struct stat moving {};
  if (replaced && sys::fstatat_nofollow(old_dir.value->get(), source.on_disk->c_str(), &moving) != 0) moving = {};
  if (const int e = sys::renameat2(old_dir.value->get(), source.on_disk->c_str(), new_dir.value->get(),
                                   new_name.c_str(), flags))
    return e;
  // A rename onto another name of the same file changes nothing.
  if (replaced && !replaced->is(moving.st_dev, moving.st_ino)) replaced->gone();
  if (source.upload) view.uploads().detach(*from, name);  // renamed: it has its real name now
  // An upload in progress under `newname` was replaced: it will not be
  // published over what now has the name (its data is dropped at close).
  view.uploads().detach(*to, newname);
  update_place(view, to, new_dir.value->get(), new_name);
  return 0;
}

}  // namespace

void unlink(fuse_req_t req, fuse_ino_t parent, const char* name) { remove_op(req, parent, name, Op::unlink); }

void rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) { remove_op(req, parent, name, Op::rmdir); }

void rename(fuse_req_t req, fuse_ino_t parent_id, const char* name, fuse_ino_t newparent_id, const char* newname,
            unsigned int flags) {
  guarded(req, "rename", [&] {
    View& view = view_of(req);
    const InodePtr from = view.inodes().get(parent_id);
    const InodePtr to = view.inodes().get(newparent_id);
    if (!from || !to) return ESTALE;
    const std::string dest = child_path(*to, newname);
    const Outcome err = do_rename(req, from, name, to, newname, flags, dest);
    audit_child(view, caller_of(req), *from, name, Op::rename, err, dest);
    if (err) return err.err;
    view.events().renamed(*from, name, *to, dest);
    fuse_reply_err(req, 0);
    return 0;
  });
}

}  // namespace gw::fs::ops
