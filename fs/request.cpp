#include "fs/request.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>

#include "fs/upload_sweep.hpp"

namespace gw::fs {

void log_exception(const char* op, const char* what) noexcept {
  try {
    spdlog::error("{}: internal error: {}", op, what);
  } catch (...) {
  }
}

void audit_child(const View& view, const Caller& who, const Inode& dir, std::string_view name, Op op,
                 Outcome outcome, std::string_view to) noexcept {
  try {
    if (view.audit().enabled() && !outcome.refused)
      view.audit().write({&dir, op, child_path(dir, name), std::string(to), outcome.err, 0, who, {}});
  } catch (...) {
  }
}

void audit_node(const View& view, const Caller& who, const Inode& node, Op op, Outcome outcome,
                std::uint64_t bytes) noexcept {
  try {
    if (view.audit().enabled() && !outcome.refused)
      view.audit().write({&node, op, node.path(), {}, outcome.err, bytes, who, {}});
  } catch (...) {
  }
}

Caller caller_of(fuse_req_t req) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  return Caller{ctx->uid, ctx->gid, ctx->pid};
}

namespace {

// The kernel's overflow id (/proc/sys/fs/overflowuid or overflowgid: 65534,
// nobody and nogroup, unless the host changed it), what a user namespace
// shows for an id that means nothing inside it.
unsigned overflow_id(const char* file) {
  unsigned id = 65534;
  if (std::FILE* f = std::fopen(file, "re")) {
    if (std::fscanf(f, "%u", &id) != 1) id = 65534;
    std::fclose(f);
  }
  return id;
}

}  // namespace

struct stat present(const Inode& node, const struct stat& backing) {
  // Read once, by the first request (the kernel's setting is fixed at boot
  // in practice).
  static const uid_t overflow_uid = overflow_id("/proc/sys/fs/overflowuid");
  static const gid_t overflow_gid = overflow_id("/proc/sys/fs/overflowgid");
  struct stat st = backing;
  const MappingRoot& m = *node.mapping;
  // Only what the mapping stores is the user's. The user's own ids on disk,
  // where another owner is stored, are someone else's as far as this
  // mapping goes (a consumer that happens to run with the same uid): shown
  // as nobody, so neither the user nor the kernel's permission checks take
  // them for the user's, whose accesses are all made as the stored owner.
  if (st.st_uid == m.stored.uid) st.st_uid = m.user.uid;
  else if (st.st_uid == m.user.uid) st.st_uid = overflow_uid;
  if (st.st_gid == m.stored.gid) st.st_gid = m.user.gid;
  else if (st.st_gid == m.user.gid) st.st_gid = overflow_gid;
  st.st_ino = node.id;
  // A fifo, socket or device planted in a volume is shown as an empty file:
  // the client's kernel would open a fifo locally (blocking the sftp
  // session) without asking us; a regular file's open reaches open(), which
  // refuses anything that is not one.
  if (presented_type(st.st_mode & S_IFMT) != (st.st_mode & S_IFMT)) {
    st.st_mode = S_IFREG | (st.st_mode & 07777);
    st.st_size = 0;
    st.st_blocks = 0;
    st.st_rdev = 0;
  }
  return st;
}

mode_t presented_type(mode_t type) {
  return S_ISREG(type) || S_ISDIR(type) || S_ISLNK(type) ? type : S_IFREG;
}

struct stat synthetic_attr(const Inode& node) {
  struct stat st {};
  const Synthetic& s = *node.synthetic;
  st.st_ino = node.id;
  st.st_mode = s.mode;
  st.st_gid = s.gid;
  st.st_nlink = S_ISDIR(s.mode) ? 2 : 1;
  st.st_size = S_ISDIR(s.mode) ? 4096 : static_cast<off_t>(s.content()->size());
  st.st_blksize = 4096;
  st.st_blocks = (st.st_size + 511) / 512;
  // uid 0 and no group/other write bits: OpenSSH requires exactly that of
  // every component of a ChrootDirectory.
  return st;
}

sys::Result<SharedFd> node_fd(View& view, const Inode& node) {
  // An overwritten file's inode stands for its upload's temporary, then for
  // the file that temporary became (fs/upload.hpp).
  if (node.is_backed() && S_ISREG(node.type))
    if (const auto next = Uploads::redirect_of(node)) return view.fds().get(*next);
  return view.fds().get(node);
}

int attributes(View& view, const Inode& node, struct stat* out) {
  if (node.synthetic) {
    *out = synthetic_attr(node);
    return 0;
  }
  auto fd = node_fd(view, node);
  if (!fd.ok()) return fd.err;
  struct stat st {};
  if (const int e = sys::fstat(fd.value->get(), &st)) return e;
  *out = present(node, st);
  return 0;
}

namespace {

int lookup_synthetic(View& view, const InodePtr& parent, const char* name, InodePtr* child, struct stat* attr) {
  InodePtr found = parent->synthetic->child(name);
  if (!found) return ENOENT;
  if (const int e = attributes(view, *found, attr)) return e;
  view.inodes().add_reference(found);
  *child = std::move(found);
  return 0;
}

}  // namespace

int lookup_child(View& view, const InodePtr& parent, const char* name, InodePtr* child, struct stat* attr) {
  if (Name::too_long(name)) return ENAMETOOLONG;
  if (parent->synthetic) {
    const int e = lookup_synthetic(view, parent, name, child, attr);
    if (e == 0) sweep_on_first_use(view, *child);  // a home
    return e;
  }
  if (const auto mounts = parent->mounts()) {
    if (const auto it = mounts->find(name); it != mounts->end()) {
      if (const int e = attributes(view, *it->second, attr)) return e;
      view.inodes().add_reference(it->second);
      *child = it->second;
      sweep_on_first_use(view, *child);  // a mapped folder
      return 0;
    }
  }
  // Temporary names of atomic uploads are the gateway's own; an upload in
  // progress is found under its final name.
  const Uploads::Resolved r = view.uploads().resolve(*parent, name);
  if (!r.on_disk) return ENOENT;
  auto dir = node_fd(view, *parent);
  if (!dir.ok()) return dir.err;
  struct stat st {};
  auto fd = open_child(*dir.value, *r.on_disk, parent->mapping->dev, &st);
  if (fd.err == EXDEV) return ENOENT;  // another filesystem mounted inside a volume: never entered
  if (!fd.ok()) return fd.err;
  auto shared = std::make_shared<const BackingFd>(std::move(fd.value));
  auto node = view.inodes().remember(parent->mapping, st, handle_of(shared->get()), shared);
  if (!node->pinned) view.fds().put(node->id, shared);
  node->set_place(parent, name);
  *attr = present(*node, st);
  // An overwrite of this file is in progress or done: what the inode stands
  // for is the new file (kept as found if it cannot be read).
  if (Uploads::redirect_of(*node)) attributes(view, *node, attr);
  *child = std::move(node);
  return 0;
}

Outcome take_handle(View& view, const Inode& node, Op op, const Caller& who, HandleQuota::Token* token) {
  *token = view.handles().acquire(who.uid);
  if (*token) return 0;
  return view.policy().refuse(node, op, who, EMFILE, "too many open files and folders");
}

void reply_entry(fuse_req_t req, View& view, const InodePtr& node, const struct stat& attr) {
  fuse_entry_param e{};
  e.ino = node->id;
  e.attr = attr;
  e.attr_timeout = view.timeout();
  e.entry_timeout = view.timeout();
  if (fuse_reply_entry(req, &e) == -ENOENT) {
    // The request was interrupted: the kernel did not take the reference.
    view.inodes().forget(node->id, 1);
  }
}

}  // namespace gw::fs
