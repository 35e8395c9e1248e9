#include "fs/identity.hpp"

#include <grp.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace gw::fs {
namespace {

long raw(long nr, long a, long b, long c) { return ::syscall(nr, a, b, c); }

// Modes reaching a worker were already masked with the client's umask by the
// kernel (FUSE_CAP_DONT_MASK is off), so the worker's own umask must be 0.
// unshare(CLONE_FS) makes the umask this thread's own (as virtiofsd does),
// leaving the process umask for the gateway's own files (state, logs).
int clear_thread_umask() {
  thread_local const int err = [] {
    if (::unshare(CLONE_FS) != 0) return errno;
    ::umask(0);
    return 0;
  }();
  return err;
}

}  // namespace

AsIdentity::AsIdentity(uid_t uid, gid_t gid) {
  if (const int e = clear_thread_umask()) {
    error_ = e;
    return;
  }
  if (raw(SYS_setresgid, -1, static_cast<long>(gid), -1) != 0) {
    error_ = errno;
    return;
  }
  gid_changed_ = true;
  if (raw(SYS_setresuid, -1, static_cast<long>(uid), -1) != 0) {
    error_ = errno;
    return;
  }
  uid_changed_ = true;
}

AsIdentity::~AsIdentity() {
  // Back to root: uid first (restores the capabilities needed to change the
  // gid). A thread that cannot return to a known identity must not serve
  // another request with the wrong one.
  if (uid_changed_ && raw(SYS_setresuid, -1, 0, -1) != 0) {
    std::fputs("gateway: cannot restore worker uid; aborting\n", stderr);
    std::abort();
  }
  if (gid_changed_ && raw(SYS_setresgid, -1, 0, -1) != 0) {
    std::fputs("gateway: cannot restore worker gid; aborting\n", stderr);
    std::abort();
  }
}

int drop_supplementary_groups() { return ::setgroups(0, nullptr) == 0 ? 0 : errno; }

}  // namespace gw::fs
