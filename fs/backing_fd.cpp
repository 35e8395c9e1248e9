#include "fs/backing_fd.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>

namespace gw::fs {

sys::Result<BackingFd> open_child(const BackingFd& dir, const Name& name, dev_t dev, struct stat* st_out) {
  // RESOLVE_NO_XDEV also stops at a bind mount of a folder from the same
  // filesystem (same st_dev, so the device check below cannot see it).
  // RESOLVE_NO_SYMLINKS with O_PATH|O_NOFOLLOW still returns a trailing
  // symlink itself, never its target.
  auto r = sys::openat2(dir.get(), name.c_str(), O_PATH | O_NOFOLLOW,
                        RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (!r.ok()) return {BackingFd{UniqueFd{}}, r.err};
  struct stat st {};
  if (const int e = sys::fstat(r.value.get(), &st)) return {BackingFd{UniqueFd{}}, e};
  if (st.st_dev != dev) return {BackingFd{UniqueFd{}}, EXDEV};
  if (st_out) *st_out = st;
  return {BackingFd{std::move(r.value)}, 0};
}

int peek_child(const BackingFd& dir, const Name& name, dev_t dev, mode_t* type) {
  struct statx sx {};
  if (const int e = sys::statx_nofollow(dir.get(), name.c_str(), STATX_TYPE, &sx)) return e;
  if ((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0) {
    // Before Linux 5.8 the kernel does not say; only RESOLVE_NO_XDEV tells
    // a bind mount of the same filesystem.
    auto fd = open_child(dir, name, dev);
    if (!fd.ok()) return fd.err;
  } else if ((sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0 || makedev(sx.stx_dev_major, sx.stx_dev_minor) != dev) {
    return EXDEV;
  }
  *type = static_cast<mode_t>(sx.stx_mode & S_IFMT);
  return 0;
}

sys::Result<BackingFd> open_by_handle(int mount_fd, const FileHandle& handle) {
  // open_by_handle_at takes a non-const handle; work on a copy.
  std::vector<unsigned char> copy = handle.bytes;
  const int fd = ::open_by_handle_at(mount_fd, reinterpret_cast<struct file_handle*>(copy.data()),
                                     O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return {BackingFd{UniqueFd{}}, errno};
  return {BackingFd{UniqueFd{fd}}, 0};
}

sys::Result<BackingFd> open_trusted_root(const std::string& path) {
  auto r = sys::openat(AT_FDCWD, path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW);
  if (!r.ok()) return {BackingFd{UniqueFd{}}, r.err};
  return {BackingFd{std::move(r.value)}, 0};
}

sys::Result<BackingFd> open_trusted_root(const std::string& path, const std::string& beneath) {
  auto base = open_trusted_root(path);
  if (!base.ok() || beneath.empty()) return base;
  auto r = sys::openat2(base.value.get(), beneath.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW,
                        RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (!r.ok()) return {BackingFd{UniqueFd{}}, r.err};
  return {BackingFd{std::move(r.value)}, 0};
}

FileHandle handle_of(int fd) {
  // Asked for in a buffer of the largest size, kept at its own: every
  // remembered inode holds one (ext4's is 8 bytes, 16 with the header, where
  // the largest takes a 144-byte allocation).
  alignas(struct file_handle) unsigned char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
  auto* fh = reinterpret_cast<struct file_handle*>(buf);
  fh->handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (::name_to_handle_at(fd, "", fh, &mount_id, AT_EMPTY_PATH) != 0) return {};
  FileHandle h;
  h.bytes.assign(buf, buf + sizeof(struct file_handle) + fh->handle_bytes);
  return h;
}

sys::Result<BackingFd> path_fd_of(int proc_self_fd, int open_fd) {
  auto r = sys::reopen(proc_self_fd, open_fd, O_PATH);
  if (!r.ok()) return {BackingFd{UniqueFd{}}, r.err};
  return {BackingFd{std::move(r.value)}, 0};
}

int reopen_key_of(int proc_self_fd, int open_fd, FileHandle* handle, SharedFd* pinned) {
  *handle = handle_of(open_fd);
  if (!handle->empty()) return 0;
  auto p = path_fd_of(proc_self_fd, open_fd);
  if (!p.ok()) return p.err;
  *pinned = std::make_shared<const BackingFd>(std::move(p.value));
  return 0;
}

}  // namespace gw::fs
