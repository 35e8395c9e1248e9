// The thin syscall layer: every call the view makes on a backing store is
// wrapped once here and returns 0 or a positive errno (or a value plus an
// errno), so op code never reads errno itself.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <cstddef>
#include <string>

#include "fs/unique_fd.hpp"

namespace gw::fs::sys {

template <class T>
struct Result {
  T value{};
  int err = 0;
  bool ok() const { return err == 0; }
};

Result<UniqueFd> openat(int dirfd, const char* name, int flags, mode_t mode = 0);
// openat2(2) (raw syscall: glibc 2.36 has no wrapper) with `resolve` flags
// (RESOLVE_*). Fails closed: ENOSYS on kernels without it, never a fallback.
Result<UniqueFd> openat2(int dirfd, const char* name, int flags, unsigned long long resolve);
int fstat(int fd, struct stat* st);                        // fstatat(fd, "", AT_EMPTY_PATH)
int fstatat_nofollow(int dirfd, const char* name, struct stat* st);
// statx(2) of `name` in `dirfd`, never following a symlink, asking only for
// `mask` (STATX_*): a filesystem may then skip work for what is not asked.
int statx_nofollow(int dirfd, const char* name, unsigned mask, struct statx* stx);
// getdents64(2): as many entries (struct dirent64) as fit in `size` bytes;
// 0 at the end of the folder.
Result<std::size_t> getdents64(int fd, void* buf, std::size_t size);
int mkdirat(int dirfd, const char* name, mode_t mode);
int unlinkat(int dirfd, const char* name, int flags);
int symlinkat(const char* target, int dirfd, const char* name);
int renameat2(int olddir, const char* oldname, int newdir, const char* newname, unsigned flags);
int linkat_fd(int proc_self_fd, int fd, int newdir, const char* newname);  // via /proc/self/fd
Result<std::string> readlink_fd(int fd);                   // readlinkat(fd, "")
int fchmod_via_proc(int proc_self_fd, int fd, mode_t mode);
int fchown_fd(int fd, uid_t uid, gid_t gid);               // fchownat(fd, "", AT_EMPTY_PATH)
int utimens_via_proc(int proc_self_fd, int fd, const struct timespec times[2]);
int ftruncate(int fd, off_t size);
int set_status_flags(int fd, int flags);                   // fcntl(F_SETFL)
int fstatvfs(int fd, struct statvfs* st);
int fsync(int fd, bool datasync);
int fallocate(int fd, int mode, off_t offset, off_t length);
Result<std::size_t> pread(int fd, void* buf, std::size_t size, off_t off);
Result<off_t> lseek(int fd, off_t off, int whence);
// Extended attributes of the object behind an O_PATH fd (f*xattr refuse
// O_PATH fds; the /proc/self/fd path reaches the same object).
Result<std::size_t> getxattr_fd(int fd, const char* name, void* value, std::size_t size);
int setxattr_fd(int fd, const char* name, const void* value, std::size_t size, int flags);
Result<std::size_t> listxattr_fd(int fd, char* list, std::size_t size);
int removexattr_fd(int fd, const char* name);

// Reopens an O_PATH fd with real access flags through /proc/self/fd, so the
// open is checked against the backing object with the thread's credentials.
Result<UniqueFd> reopen(int proc_self_fd, int fd, int flags);

}  // namespace gw::fs::sys
