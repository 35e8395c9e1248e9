#include <dirent.h>

#include <memory>
#include <string>
#include <vector>

#include "fs/ops.hpp"

namespace gw::fs::ops {
namespace {

struct DirEntry {
  std::string name;
  mode_t type = 0;
  ino_t ino = 0;
  bool backed = false;   // read from the backing folder (not a mapped folder or a synthetic entry)
  std::string on_disk;   // an upload in progress: its temporary's name; else empty (`name`)
};

// What a plain READDIR shows of an entry whose object the kernel does not
// know: the inode number libfuse's high-level API shows in the same case
// (FUSE_UNKNOWN_INO). Never the backing folder's own inode numbers.
constexpr ino_t kUnknownIno = 0xffffffff;

// An open directory. Its entries are read in full when reading starts at
// offset 0, so offsets are plain indexes: stable, and free to mix the
// mapped folders of a home in with the backing entries.
struct DirHandle {
  InodePtr node;
  HandleQuota::Token counted;  // a backed folder's listing, against the opener's cap
  std::vector<DirEntry> entries;

  static DirHandle& of(const struct fuse_file_info* fi) { return *reinterpret_cast<DirHandle*>(fi->fh); }
};

int load_synthetic(DirHandle& d) {
  d.entries = {{".", S_IFDIR, d.node->id, false, {}}, {"..", S_IFDIR, 0, false, {}}};
  d.node->synthetic->each_child([&](const std::string& name, const InodePtr& child) {
    const mode_t mode = child->synthetic ? child->synthetic->mode : child->type;
    d.entries.push_back({name, static_cast<mode_t>(mode & S_IFMT), child->id, false, {}});
  });
  return 0;
}

int load_backed(View& view, DirHandle& d) {
  auto path = node_fd(view, *d.node);
  if (!path.ok()) return path.err;
  sys::Result<UniqueFd> fd;
  {
    AsIdentity as(d.node->mapping->stored.uid, d.node->mapping->stored.gid);
    if (as.error()) return as.error();
    fd = sys::reopen(view.proc_fd(), path.value->get(), O_RDONLY | O_DIRECTORY);
  }
  if (!fd.ok()) return fd.err;
  DIR* dir = ::fdopendir(fd.value.get());
  if (!dir) return errno;
  fd.value.release();  // owned by dir now
  d.entries.clear();
  // Uploads in progress show under their final names, other temporaries
  // not at all (a listing never removes one: fs/upload_sweep.hpp does).
  const Uploads::Listing uploads = view.uploads().listing(*d.node);
  const auto mounts = d.node->mounts();
  while (const struct dirent* e = ::readdir(dir)) {
    if (mounts && mounts->count(e->d_name)) continue;  // hidden by a mapped folder
    if (auto name = uploads.shown(e->d_name)) {
      std::string on_disk = *name == e->d_name ? std::string() : std::string(e->d_name);
      d.entries.push_back({std::move(*name), static_cast<mode_t>(DTTOIF(e->d_type)), e->d_ino, true, std::move(on_disk)});
    }
  }
  ::closedir(dir);
  if (mounts) {
    for (const auto& [name, child] : *mounts) d.entries.push_back({name, S_IFDIR, child->id, false, {}});
  }
  return 0;
}

int load(View& view, DirHandle& d) { return d.node->synthetic ? load_synthetic(d) : load_backed(view, d); }

bool is_dot(const std::string& name) { return name == "." || name == ".."; }

// Adds one readdirplus entry; returns its size, 0 when it did not fit, -1
// to skip it (it vanished, or may not be entered: ENOENT) or -2 with `*err`
// set when the lookup failed otherwise (out of descriptors...): a listing
// must fail, not silently come back short.
long add_plus(fuse_req_t req, View& view, const DirHandle& d, const DirEntry& ent, char* buf, std::size_t room,
              off_t next, int* err) {
  fuse_entry_param e{};
  if (is_dot(ent.name)) {
    e.attr.st_ino = ent.ino;
    e.attr.st_mode = ent.type;  // ino 0: the kernel makes no dentry for it
    const std::size_t n = fuse_add_direntry_plus(req, buf, room, ent.name.c_str(), &e, next);
    return n > room ? 0 : static_cast<long>(n);
  }
  if (fuse_add_direntry_plus(req, nullptr, 0, ent.name.c_str(), nullptr, 0) > room) return 0;
  InodePtr child;
  if (const int e2 = lookup_child(view, d.node, ent.name.c_str(), &child, &e.attr)) {
    if (e2 == ENOENT) return -1;
    *err = e2;
    return -2;
  }
  e.ino = child->id;
  e.attr_timeout = e.entry_timeout = view.timeout();
  return static_cast<long>(fuse_add_direntry_plus(req, buf, room, ent.name.c_str(), &e, next));
}

// Adds one name-only entry (plain READDIR: with READDIRPLUS_AUTO the kernel
// asks for names only while nobody looks the entries up, e.g. ls -f, find
// -type f, rm -r). It shows what a lookup of the name would find, checked
// by one statx instead of a lookup: nothing for a mount point inside a
// volume or an entry gone since the listing was read, a fifo, socket or
// device as a regular file. Returns as add_plus does.
long add_plain(View& view, const DirHandle& d, const BackingFd* dir, const DirEntry& ent, fuse_req_t req,
               char* buf, std::size_t room, off_t next, int* err) {
  struct stat st {};
  st.st_ino = ent.ino;
  st.st_mode = ent.type;
  if (ent.backed && !is_dot(ent.name)) {
    const auto name = Name::from(ent.on_disk.empty() ? ent.name : ent.on_disk);
    if (!name) return -1;
    mode_t type = 0;
    if (const int e = peek_child(*dir, *name, d.node->mapping->dev, &type)) {
      if (e == ENOENT || e == EXDEV) return -1;
      *err = e;
      return -2;
    }
    st.st_mode = presented_type(type);
    const InodePtr known = view.inodes().find(d.node->mapping->id, d.node->mapping->dev, ent.ino);
    st.st_ino = known ? known->id : kUnknownIno;
  }
  const std::size_t n = fuse_add_direntry(req, buf, room, ent.name.c_str(), &st, next);
  return n > room ? 0 : static_cast<long>(n);
}

void list(fuse_req_t req, std::size_t size, off_t off, struct fuse_file_info* fi, bool plus) {
  guarded(req, plus ? RequestName("readdirplus") : RequestName("readdir"), [&] {
    View& view = view_of(req);
    DirHandle& d = DirHandle::of(fi);
    if (off == 0)
      if (const int e = load(view, d)) return e;
    SharedFd dir;  // plain listings of a backed folder peek at each entry through it
    if (!plus && d.node->is_backed()) {
      auto fd = node_fd(view, *d.node);
      if (!fd.ok()) return fd.err;
      dir = std::move(fd.value);
    }
    std::vector<char> buf(size);
    std::size_t used = 0;
    for (auto i = static_cast<std::size_t>(off); i < d.entries.size(); ++i) {
      const DirEntry& ent = d.entries[i];
      const auto next = static_cast<off_t>(i + 1);
      int err = 0;
      const long n = plus ? add_plus(req, view, d, ent, buf.data() + used, size - used, next, &err)
                          : add_plain(view, d, dir.get(), ent, req, buf.data() + used, size - used, next, &err);
      if (n == -2) {  // the listing fails rather than come back short
        if (used == 0) return err;
        break;  // what was added goes now (the kernel counts those lookups); the failing entry leads the next call
      }
      if (n == 0) break;  // the rest comes with the next call
      if (n > 0) used += static_cast<std::size_t>(n);
    }
    fuse_reply_buf(req, buf.data(), used);
    return 0;
  });
}

}  // namespace

void opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  guarded(req, "opendir", [&] {
    View& view = view_of(req);
    const InodePtr node = view.inodes().get(ino);
    if (!node) return ESTALE;
    if (const Outcome e = view.policy().check(*node, Op::readdir, caller_of(req))) return e.err;
    const bool dir = node->synthetic ? S_ISDIR(node->synthetic->mode) : S_ISDIR(node->type);
    if (!dir) return ENOTDIR;
    auto handle = std::make_unique<DirHandle>();
    handle->node = node;
    if (node->is_backed())
      if (const Outcome e = take_handle(view, *node, Op::readdir, caller_of(req), &handle->counted)) return e.err;
    fi->fh = reinterpret_cast<std::uint64_t>(handle.get());
    if (fuse_reply_open(req, fi) == 0) handle.release();
    return 0;
  });
}

void readdir(fuse_req_t req, fuse_ino_t, std::size_t size, off_t off, struct fuse_file_info* fi) {
  list(req, size, off, fi, false);
}

void readdirplus(fuse_req_t req, fuse_ino_t, std::size_t size, off_t off, struct fuse_file_info* fi) {
  list(req, size, off, fi, true);
}

void releasedir(fuse_req_t req, fuse_ino_t, struct fuse_file_info* fi) {
  delete &DirHandle::of(fi);
  fuse_reply_err(req, 0);
}

void fsyncdir(fuse_req_t req, fuse_ino_t, int, struct fuse_file_info*) { fuse_reply_err(req, 0); }

}  // namespace gw::fs::ops
