#include "fs/sys.hpp"

#include <dirent.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

namespace gw::fs::sys {
namespace {

int status(int rc) { return rc < 0 ? errno : 0; }

// "/proc/self/fd/<n>" relative to the /proc/self/fd directory fd.
struct ProcName {
  char text[16];
  explicit ProcName(int fd) { std::snprintf(text, sizeof text, "%d", fd); }
};

// The absolute form, for the calls that have no *at variant (xattrs).
struct ProcPath {
  char text[32];
  explicit ProcPath(int fd) { std::snprintf(text, sizeof text, "/proc/self/fd/%d", fd); }
};

}  // namespace

Result<UniqueFd> openat(int dirfd, const char* name, int flags, mode_t mode) {
  const int fd = ::openat(dirfd, name, flags | O_CLOEXEC, mode);
  if (fd < 0) return {UniqueFd{}, errno};
  return {UniqueFd{fd}, 0};
}

Result<UniqueFd> openat2(int dirfd, const char* name, int flags, unsigned long long resolve) {
  struct open_how how {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.resolve = resolve;
  const long fd = ::syscall(SYS_openat2, dirfd, name, &how, sizeof how);
  if (fd < 0) return {UniqueFd{}, errno};
  return {UniqueFd{static_cast<int>(fd)}, 0};
}

int fstat(int fd, struct stat* st) { return status(::fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)); }

int fstatat_nofollow(int dirfd, const char* name, struct stat* st) {
  return status(::fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW));
}

int statx_nofollow(int dirfd, const char* name, unsigned mask, struct statx* stx) {
  return status(::statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, mask, stx));
}

Result<std::size_t> getdents64(int fd, void* buf, std::size_t size) {
  const ssize_t n = ::getdents64(fd, buf, size);
  if (n < 0) return {0, errno};
  return {static_cast<std::size_t>(n), 0};
}

int mkdirat(int dirfd, const char* name, mode_t mode) { return status(::mkdirat(dirfd, name, mode)); }
int unlinkat(int dirfd, const char* name, int flags) { return status(::unlinkat(dirfd, name, flags)); }
int symlinkat(const char* target, int dirfd, const char* name) {
  return status(::symlinkat(target, dirfd, name));
}

int renameat2(int olddir, const char* oldname, int newdir, const char* newname, unsigned flags) {
  return status(::renameat2(olddir, oldname, newdir, newname, flags));
}

int linkat_fd(int proc_self_fd, int fd, int newdir, const char* newname) {
  // linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH, which the worker
  // does not hold under the stored owner's identity; the /proc link does not.
  const ProcName p(fd);
  return status(::linkat(proc_self_fd, p.text, newdir, newname, AT_SYMLINK_FOLLOW));
}

Result<std::string> readlink_fd(int fd) {
  std::vector<char> buf(4096);
  for (;;) {
    const ssize_t n = ::readlinkat(fd, "", buf.data(), buf.size());
    if (n < 0) return {{}, errno};
    if (static_cast<std::size_t>(n) < buf.size()) return {std::string(buf.data(), static_cast<std::size_t>(n)), 0};
    buf.resize(buf.size() * 2);
  }
}

int fchmod_via_proc(int proc_self_fd, int fd, mode_t mode) {
  const ProcName p(fd);
  return status(::fchmodat(proc_self_fd, p.text, mode, 0));
}

int fchown_fd(int fd, uid_t uid, gid_t gid) {
  return status(::fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

int utimens_via_proc(int proc_self_fd, int fd, const struct timespec times[2]) {
  const ProcName p(fd);
  return status(::utimensat(proc_self_fd, p.text, times, 0));
}

int ftruncate(int fd, off_t size) { return status(::ftruncate(fd, size)); }
int set_status_flags(int fd, int flags) { return status(::fcntl(fd, F_SETFL, flags)); }
int fstatvfs(int fd, struct statvfs* st) { return status(::fstatvfs(fd, st)); }
int fsync(int fd, bool datasync) { return status(datasync ? ::fdatasync(fd) : ::fsync(fd)); }
int fallocate(int fd, int mode, off_t offset, off_t length) {
  return status(::fallocate(fd, mode, offset, length));
}

Result<std::size_t> pread(int fd, void* buf, std::size_t size, off_t off) {
  const ssize_t n = ::pread(fd, buf, size, off);
  if (n < 0) return {0, errno};
  return {static_cast<std::size_t>(n), 0};
}

Result<off_t> lseek(int fd, off_t off, int whence) {
  const off_t r = ::lseek(fd, off, whence);
  if (r < 0) return {0, errno};
  return {r, 0};
}

Result<std::size_t> getxattr_fd(int fd, const char* name, void* value, std::size_t size) {
  const ProcPath p(fd);
  const ssize_t n = ::getxattr(p.text, name, value, size);
  if (n < 0) return {0, errno};
  return {static_cast<std::size_t>(n), 0};
}

int setxattr_fd(int fd, const char* name, const void* value, std::size_t size, int flags) {
  const ProcPath p(fd);
  return status(::setxattr(p.text, name, value, size, flags));
}

Result<std::size_t> listxattr_fd(int fd, char* list, std::size_t size) {
  const ProcPath p(fd);
  const ssize_t n = ::listxattr(p.text, list, size);
  if (n < 0) return {0, errno};
  return {static_cast<std::size_t>(n), 0};
}

int removexattr_fd(int fd, const char* name) {
  const ProcPath p(fd);
  return status(::removexattr(p.text, name));
}

Result<UniqueFd> reopen(int proc_self_fd, int fd, int flags) {
  const ProcName p(fd);
  // The magic link is ours (an O_PATH fd of an object already checked to be
  // a regular file or directory); O_NOFOLLOW would refuse it.
  return openat(proc_self_fd, p.text, flags & ~(O_NOFOLLOW | O_CREAT | O_EXCL));
}

}  // namespace gw::fs::sys
