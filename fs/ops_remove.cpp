#include "fs/ops.hpp"

namespace gw::fs::ops {
namespace {

// A mapped folder shown in a home cannot be removed or renamed through it.
bool is_mount_name(const Inode& dir, const char* name) { return dir.mounts && dir.mounts->count(name) > 0; }

int remove(fuse_req_t req, fuse_ino_t parent_id, const char* name, Op op) {
  View& view = view_of(req);
  const InodePtr parent = view.inodes().get(parent_id);
  if (!parent) return ESTALE;
  const Caller who = caller_of(req);
  if (const int e = view.policy().check(*parent, op, who)) return e;
  if (is_mount_name(*parent, name)) return view.policy().refuse(*parent, op, who, EBUSY, "a mapped folder");
  const auto checked = Name::from(name);
  if (!checked) return EINVAL;
  auto dir = node_fd(view, *parent);
  if (!dir.ok()) return dir.err;
  AsIdentity as(parent->mapping->stored.uid, parent->mapping->stored.gid);
  if (as.error()) return as.error();
  return sys::unlinkat(dir.value->get(), checked->c_str(), op == Op::rmdir ? AT_REMOVEDIR : 0);
}

}  // namespace

void unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  guarded(req, "unlink", [&] {
    if (const int e = remove(req, parent, name, Op::unlink)) return e;
    fuse_reply_err(req, 0);
    return 0;
  });
}

void rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  guarded(req, "rmdir", [&] {
    if (const int e = remove(req, parent, name, Op::rmdir)) return e;
    fuse_reply_err(req, 0);
    return 0;
  });
}

void rename(fuse_req_t req, fuse_ino_t parent_id, const char* name, fuse_ino_t newparent_id, const char* newname,
            unsigned int flags) {
  guarded(req, "rename", [&] {
    View& view = view_of(req);
    const InodePtr from = view.inodes().get(parent_id);
    const InodePtr to = view.inodes().get(newparent_id);
    if (!from || !to) return ESTALE;
    const Caller who = caller_of(req);
    if (const int e = view.policy().check(*from, Op::rename, who)) return e;
    if (const int e = view.policy().check(*to, Op::rename, who)) return e;
    // Never a silent copy: the client sees the failure.
    if (from->mapping->id != to->mapping->id)
      return view.policy().refuse(*from, Op::rename, who, EXDEV, "rename across mappings");
    if (is_mount_name(*from, name) || is_mount_name(*to, newname))
      return view.policy().refuse(*from, Op::rename, who, EBUSY, "a mapped folder");
    if (flags & RENAME_WHITEOUT) return EINVAL;
    const auto old_name = Name::from(name);
    const auto new_name = Name::from(newname);
    if (!old_name || !new_name) return EINVAL;
    auto old_dir = node_fd(view, *from);
    if (!old_dir.ok()) return old_dir.err;
    auto new_dir = node_fd(view, *to);
    if (!new_dir.ok()) return new_dir.err;
    {
      AsIdentity as(from->mapping->stored.uid, from->mapping->stored.gid);
      if (as.error()) return as.error();
      if (const int e = sys::renameat2(old_dir.value->get(), old_name->c_str(), new_dir.value->get(),
                                       new_name->c_str(), flags))
        return e;
    }
    fuse_reply_err(req, 0);
    return 0;
  });
}

}  // namespace gw::fs::ops
