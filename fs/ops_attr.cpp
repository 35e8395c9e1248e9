#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "fs/open_file.hpp"
#include "fs/ops.hpp"
#include "fs/quota_steps.hpp"

namespace gw::fs::ops {

void getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info*) {
  guarded(req, "getattr", [&] {
    View& view = view_of(req);
    const InodePtr node = view.inodes().get(ino);
    if (!node) return ESTALE;
    if (const Outcome e = view.policy().check(*node, Op::getattr, caller_of(req))) return e.err;
    struct stat st {};
    if (const int e = attributes(view, *node, &st)) return e;
    fuse_reply_attr(req, &st, view.timeout());
    return 0;
  });
}

namespace {

// chown/chgrp: only to the sftp user (stored as the stored owner); the
// backing ids are what lands on disk.
int owner_change(const Inode& node, const struct stat& attr, int to_set, uid_t* uid, gid_t* gid) {
  const MappingRoot& m = *node.mapping;
  *uid = static_cast<uid_t>(-1);
  *gid = static_cast<gid_t>(-1);
  if (to_set & FUSE_SET_ATTR_UID) {
    if (attr.st_uid != m.user.uid) return EPERM;
    *uid = m.stored.uid;
  }
  if (to_set & FUSE_SET_ATTR_GID) {
    if (attr.st_gid != m.user.gid) return EPERM;
    *gid = m.stored.gid;
  }
  return 0;
}

int set_times(View& view, int fd, const struct stat& attr, int to_set) {
  struct timespec times[2];
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_nsec = UTIME_OMIT;
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) times[0].tv_nsec = UTIME_NOW;
  else if (to_set & FUSE_SET_ATTR_ATIME) times[0] = attr.st_atim;
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) times[1].tv_nsec = UTIME_NOW;
  else if (to_set & FUSE_SET_ATTR_MTIME) times[1] = attr.st_mtim;
  return sys::utimens_via_proc(view.proc_fd(), fd, times);
}

// Within the limits of its folders: a truncate that extends a file (a
// sparse file counts its whole size) takes the growth first.
Outcome truncate(View& view, const Inode& node, int path_fd, off_t size, struct fuse_file_info* fi, const Caller& who) {
  UniqueFd opened;
  int fd = fi ? OpenFile::of(fi).fd.get() : -1;
  if (!fi) {
    auto w = sys::reopen(view.proc_fd(), path_fd, O_WRONLY);
    if (!w.ok()) return w.err;
    opened = std::move(w.value);
    fd = opened.get();
  }
  if (size < 0) return EINVAL;
  return resize_within_quota(view, node, fd, static_cast<std::uint64_t>(size), Op::setattr, who,
                             fi ? &OpenFile::of(fi).orphan_bytes : nullptr, nullptr,
                             [&] { return sys::ftruncate(fd, size); });
}

// Applies the changes as the stored owner, in the order chown, chmod (so a
// chown cannot undo the mode), size, times.
Outcome apply(View& view, const Inode& node, const struct stat& attr, int to_set, struct fuse_file_info* fi,
              const Caller& who) {
  auto fd = node_fd(view, node);
  if (!fd.ok()) return fd.err;
  const int path_fd = fd.value->get();
  AsIdentity as(node.mapping->stored.uid, node.mapping->stored.gid);
  if (as.error()) return as.error();
  if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    uid_t uid;
    gid_t gid;
    if (owner_change(node, attr, to_set, &uid, &gid))
      return view.policy().refuse(node, Op::setattr, who, EPERM, "chown/chgrp to anyone but the user");
    if (const int e = sys::fchown_fd(path_fd, uid, gid)) return e;
  }
  if (to_set & FUSE_SET_ATTR_MODE) {
    const mode_t mode = attr.st_mode & 07777;
    if (mode & 07000) spdlog::info("{}: stripped special mode bits {:o} (inode {})", node.mapping->label, mode & 07000, node.id);
    if (S_ISLNK(node.type)) return EOPNOTSUPP;
    if (const int e = sys::fchmod_via_proc(view.proc_fd(), path_fd, mode & 0777)) return e;
  }
  if (to_set & FUSE_SET_ATTR_SIZE) {
    if (!S_ISREG(node.type)) return S_ISDIR(node.type) ? EISDIR : EINVAL;
    if (const Outcome e = truncate(view, node, path_fd, attr.st_size, fi, who)) return e;
  }
  if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) {
    if (S_ISLNK(node.type)) return EOPNOTSUPP;
    if (const int e = set_times(view, path_fd, attr, to_set)) return e;
  }
  return 0;
}

}  // namespace

void setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, struct fuse_file_info* fi) {
  guarded(req, "setattr", [&] {
    View& view = view_of(req);
    const InodePtr node = view.inodes().get(ino);
    if (!node) return ESTALE;
    const Caller who = caller_of(req);
    if (const Outcome e = view.policy().check(*node, Op::setattr, who)) return e.err;
    const Outcome err = apply(view, *node, *attr, to_set, fi, who);
    audit_node(view, who, *node, Op::setattr, err);
    if (err) return err.err;
    struct stat st {};
    if (const int e = attributes(view, *node, &st)) return e;
    fuse_reply_attr(req, &st, view.timeout());
    return 0;
  });
}

void readlink(fuse_req_t req, fuse_ino_t ino) {
  guarded(req, "readlink", [&] {
    View& view = view_of(req);
    const InodePtr node = view.inodes().get(ino);
    if (!node) return ESTALE;
    if (const Outcome e = view.policy().check(*node, Op::readlink, caller_of(req))) return e.err;
    if (!node->is_backed() || !S_ISLNK(node->type)) return EINVAL;
    auto fd = node_fd(view, *node);
    if (!fd.ok()) return fd.err;
    auto target = sys::readlink_fd(fd.value->get());
    if (!target.ok()) return target.err;
    fuse_reply_readlink(req, target.value.c_str());
    return 0;
  });
}

namespace {

// df in a limited folder: the size is the innermost limit, what is free the
// least any limit around it leaves, never more than the disk has.
void show_limits(const QuotaChain& chain, struct statvfs* st) {
  const std::uint64_t unit = st->f_frsize ? st->f_frsize : st->f_bsize;
  if (unit == 0) return;
  std::optional<std::uint64_t> size_bytes;
  std::optional<std::uint64_t> size_files;
  std::uint64_t free_blocks = st->f_bavail;
  std::uint64_t free_files = st->f_favail;
  for (const QuotaPtr& q : chain) {
    const FolderQuota::Snapshot s = q->snapshot();
    if (s.limit.bytes) {
      size_bytes = *s.limit.bytes;
      const std::uint64_t left = *s.limit.bytes > s.used.bytes ? *s.limit.bytes - s.used.bytes : 0;
      free_blocks = std::min<std::uint64_t>(free_blocks, left / unit);
    }
    if (s.limit.files) {
      size_files = *s.limit.files;
      const std::uint64_t left = *s.limit.files > s.used.files ? *s.limit.files - s.used.files : 0;
      free_files = std::min<std::uint64_t>(free_files, left);
    }
  }
  if (size_bytes) {
    st->f_blocks = (*size_bytes + unit - 1) / unit;
    st->f_bfree = st->f_bavail = std::min<std::uint64_t>(free_blocks, st->f_blocks);
  }
  if (size_files) {
    st->f_files = *size_files;
    st->f_ffree = st->f_favail = std::min<std::uint64_t>(free_files, st->f_files);
  }
}

}  // namespace

void statfs(fuse_req_t req, fuse_ino_t ino) {
  guarded(req, "statfs", [&] {
    View& view = view_of(req);
    const InodePtr node = view.inodes().get(ino);
    if (!node) return ESTALE;
    if (const Outcome e = view.policy().check(*node, Op::statfs, caller_of(req))) return e.err;
    struct statvfs st {};
    if (node->is_backed()) {
      auto fd = node_fd(view, *node);
      if (!fd.ok()) return fd.err;
      if (const int e = sys::fstatvfs(fd.value->get(), &st)) return e;
      if (const auto chain = quota_chain(view, *node)) show_limits(*chain, &st);
    } else {
      st.f_bsize = st.f_frsize = 4096;
      st.f_namemax = 255;
    }
    fuse_reply_statfs(req, &st);
    return 0;
  });
}

}  // namespace gw::fs::ops
