#include <cstring>
#include <memory>

#include "fs/open_file.hpp"
#include "fs/ops.hpp"
#include "fs/quota_steps.hpp"
#include "fs/upload_steps.hpp"

namespace gw::fs::ops {
namespace {

// Common preamble of every op that adds a name to a directory: the parent
// exists and is writable for this caller, the name is a single component and
// collides neither with a mapped folder shown in a home nor with an upload
// in progress, and is not one of the gateway's own temporary names.
Outcome check_new_name(View& view, const InodePtr& parent, const char* name, Op op, const Caller& who,
                       std::optional<Name>* checked) {
  if (Name::too_long(name)) return ENAMETOOLONG;
  if (const Outcome e = view.policy().check(*parent, op, who, name)) return e;
  if (parent->is_mount_name(name)) return EEXIST;
  const Uploads::Resolved r = view.uploads().resolve(*parent, name);
  switch (r.kind) {
    case Uploads::Resolved::Kind::reserved:
      return view.policy().refuse(*parent, op, who, EPERM, "name reserved for uploads in progress", name);
    case Uploads::Resolved::Kind::upload: return EEXIST;
    case Uploads::Resolved::Kind::invalid: return view.policy().refuse(*parent, op, who, EINVAL, "invalid name", name);
    case Uploads::Resolved::Kind::plain: break;
  }
  *checked = r.name;
  return 0;
}

// A name just made in `parent`: audited, then replied with its entry (the
// audit line comes first, so the trail is in the order clients saw).
int finish_new_entry(fuse_req_t req, View& view, const InodePtr& parent, const std::string& name, Op op,
                     const Caller& who, Outcome err) {
  InodePtr child;
  struct stat attr {};
  if (!err) err = lookup_child(view, parent, name.c_str(), &child, &attr);
  audit_child(view, who, *parent, name, op, err);
  if (err) return err.err;
  reply_entry(req, view, child, attr);
  return 0;
}

// Runs `make(parent_fd)` as the mapping's stored owner, so the new object is
// owned by the stored owner from its first instant.
template <class Make>
int make_as_owner(View& view, const Inode& parent, Make&& make) {
  auto dir = node_fd(view, parent);
  if (!dir.ok()) return dir.err;
  AsIdentity as(parent.mapping->stored.uid, parent.mapping->stored.gid);
  if (as.error()) return as.error();
  return make(dir.value->get());
}

// Creates and opens the file; in an atomic mapping under a temporary name,
// an upload of `checked` from then on (fs/upload.hpp). `nonblock_added`: the
// descriptor has O_NONBLOCK the client did not ask for.
int create_file(View& view, const InodePtr& parent, const Name& checked, mode_t mode, int flags, OpenFile& file,
                bool* nonblock_added) {
  std::optional<Name> temporary;
  if (parent->mapping->atomic) {
    temporary = view.uploads().new_temporary_name();
    flags |= O_EXCL;
  }
  const Name& on_disk = temporary ? *temporary : checked;
  NewEntry entry(view, *parent);
  if (const FolderQuota* full = entry.take()) return refuse_quota(view, *parent, Op::create, file.opener, *full, checked.str()).err;
  // O_NONBLOCK until the object is known to be a regular file: a fifo
  // planted under this name since the kernel's lookup must not block. With
  // O_EXCL (every atomic upload) the open either makes a new regular file
  // or fails, so there is nothing to guard and no fcntl to undo it after.
  *nonblock_added = !(flags & (O_EXCL | O_NONBLOCK));
  const int open_flags = (flags | O_CREAT | O_NOFOLLOW | (*nonblock_added ? O_NONBLOCK : 0)) & ~O_NOCTTY;
  if (const int e = make_as_owner(view, *parent, [&](int dir) {
        // No special bits, ever; the mapping's umask= on top of the client's.
        auto fd = sys::openat(dir, on_disk.c_str(), open_flags, mode & 0777 & ~parent->mapping->umask);
        file.fd = std::move(fd.value);
        return fd.err;
      }))
    return e;
  entry.keep();
  if (temporary) {
    file.upload = std::make_shared<Upload>(parent, checked, *temporary);
    view.uploads().add(file.upload);
  }
  return 0;
}

// Makes the inode of a file just created and open in `file`.
int remember_created(View& view, const InodePtr& parent, const char* name, int flags, bool nonblock_added,
                     OpenFile& file, struct stat* st) {
  if (const int e = sys::fstat(file.fd.get(), st)) return e;
  if (!S_ISREG(st->st_mode)) return EEXIST;  // raced with another writer: never open a non-file
  if (nonblock_added)
    if (const int e = sys::set_status_flags(file.fd.get(), flags & ~(O_CREAT | O_EXCL | O_TRUNC))) return e;
  SharedFd pinned;
  FileHandle handle;
  if (const int e = reopen_key_of(view.proc_fd(), file.fd.get(), &handle, &pinned)) return e;
  file.node = view.inodes().remember(parent->mapping, *st, std::move(handle), pinned);
  file.node->set_place(parent, name);
  return 0;
}

Outcome do_create(fuse_req_t req, View& view, const InodePtr& parent, const char* name, mode_t mode,
                  struct fuse_file_info* fi, std::unique_ptr<OpenFile>* made, fuse_entry_param* e) {
  std::optional<Name> checked;
  if (const Outcome err = check_new_name(view, parent, name, Op::create, caller_of(req), &checked)) return err;
  auto file = std::make_unique<OpenFile>();
  file->opener = caller_of(req);
  if (const Outcome err = take_handle(view, *parent, Op::create, file->opener, &file->counted)) return err;
  bool nonblock_added = false;
  if (const int err = create_file(view, parent, *checked, mode, fi->flags, *file, &nonblock_added)) return err;
  struct stat st {};
  if (const int err = remember_created(view, parent, name, fi->flags, nonblock_added, *file, &st)) {
    if (file->upload) discard_upload(view, *file);  // no upload or temporary left behind
    return err;
  }
  e->ino = file->node->id;
  e->attr = present(*file->node, st);
  e->attr_timeout = e->entry_timeout = view.timeout();
  *made = std::move(file);
  return 0;
}

}  // namespace

void create(fuse_req_t req, fuse_ino_t parent_id, const char* name, mode_t mode, struct fuse_file_info* fi) {
  guarded(req, "create", [&] {
    View& view = view_of(req);
    const InodePtr parent = view.inodes().get(parent_id);
    if (!parent) return ESTALE;
    std::unique_ptr<OpenFile> file;
    fuse_entry_param e{};
    const Outcome err = do_create(req, view, parent, name, mode, fi, &file, &e);
    audit_child(view, caller_of(req), *parent, name, Op::create, err);
    if (err) return err.err;
    fi->fh = OpenFile::to_fh(file.get());
    fi->keep_cache = 1;
    if (fuse_reply_create(req, &e, fi) == 0) {
      file.release();
    } else {  // interrupted: the kernel never learns of the file
      view.inodes().forget(e.ino, 1);
      if (file->upload) discard_upload(view, *file);
    }
    return 0;
  });
}

void mkdir(fuse_req_t req, fuse_ino_t parent_id, const char* name, mode_t mode) {
  guarded(req, "mkdir", [&] {
    View& view = view_of(req);
    const InodePtr parent = view.inodes().get(parent_id);
    if (!parent) return ESTALE;
    const Caller who = caller_of(req);
    std::optional<Name> checked;
    Outcome err = check_new_name(view, parent, name, Op::mkdir, who, &checked);
    NewEntry entry(view, *parent);
    if (!err)
      if (const FolderQuota* full = entry.take()) err = refuse_quota(view, *parent, Op::mkdir, who, *full, name);
    if (!err)
      err = make_as_owner(view, *parent,
                          [&](int dir) { return sys::mkdirat(dir, checked->c_str(), mode & 0777 & ~parent->mapping->umask); });
    if (!err) {
      entry.keep();
      view.events().folder_made(*parent, name);
    }
    return finish_new_entry(req, view, parent, name, Op::mkdir, who, err);
  });
}

void mknod(fuse_req_t req, fuse_ino_t parent_id, const char* name, mode_t, dev_t) {
  guarded(req, "mknod", [&] {
    View& view = view_of(req);
    const InodePtr parent = view.inodes().get(parent_id);
    if (!parent) return ESTALE;
    return view.policy().check(*parent, Op::mknod, caller_of(req), name).err;  // always a refusal
  });
}

void symlink(fuse_req_t req, const char* target, fuse_ino_t parent_id, const char* name) {
  guarded(req, "symlink", [&] {
    View& view = view_of(req);
    const InodePtr parent = view.inodes().get(parent_id);
    if (!parent) return ESTALE;
    const Caller who = caller_of(req);
    std::optional<Name> checked;
    Outcome err = check_new_name(view, parent, name, Op::symlink, who, &checked);
    if (!err && !parent->mapping->symlinks)
      err = view.policy().refuse(*parent, Op::symlink, who, EPERM, "symlinks are off for this mapping", name);
    // A symlink counts its own size, the length of its target.
    NewEntry entry(view, *parent);
    if (!err)
      if (const FolderQuota* full = entry.take(std::strlen(target)))
        err = refuse_quota(view, *parent, Op::symlink, who, *full, name);
    // The target is stored verbatim; the gateway itself never follows it.
    if (!err) err = make_as_owner(view, *parent, [&](int dir) { return sys::symlinkat(target, dir, checked->c_str()); });
    if (!err) entry.keep();
    return finish_new_entry(req, view, parent, name, Op::symlink, who, err);
  });
}

namespace {

// Links `node` as `newname` in `parent`, within one mapping and only for a
// file the user owns.
Outcome link_backing(View& view, const InodePtr& node, const InodePtr& parent, const char* newname,
                     const Caller& who) {
  std::optional<Name> checked;
  if (const Outcome e = check_new_name(view, parent, newname, Op::link, who, &checked)) return e;
  if (!node->is_backed() || node->mapping->id != parent->mapping->id)
    return view.policy().refuse(*parent, Op::link, who, EXDEV, "hard link across mappings", newname);
  struct stat st {};
  if (const int e = attributes(view, *node, &st)) return e;
  if (S_ISDIR(st.st_mode) || st.st_uid != node->mapping->user.uid)
    return view.policy().refuse(*parent, Op::link, who, EPERM, "hard link to a file the user does not own", newname);
  // A hard-linked file counts once, in the limits of where it was made; a
  // link out of them would move it from one limit to another unseen.
  if (const InodePtr from = node->place_parent(); !from || !same_quotas(view, *from, *parent))
    if (quota_chain(view, *parent) || (from && quota_chain(view, *from)))
      return view.policy().refuse(*parent, Op::link, who, EXDEV, "hard link across limited folders", newname);
  auto fd = node_fd(view, *node);
  if (!fd.ok()) return fd.err;
  return make_as_owner(view, *parent, [&](int dir) {
    return sys::linkat_fd(view.proc_fd(), fd.value->get(), dir, checked->c_str());
  });
}

}  // namespace

void link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent_id, const char* newname) {
  guarded(req, "link", [&] {
    View& view = view_of(req);
    const InodePtr node = view.inodes().get(ino);
    const InodePtr parent = view.inodes().get(newparent_id);
    if (!node || !parent) return ESTALE;
    const Caller who = caller_of(req);
    const Outcome err = link_backing(view, node, parent, newname, who);
    return finish_new_entry(req, view, parent, newname, Op::link, who, err);
  });
}

}  // namespace gw::fs::ops
