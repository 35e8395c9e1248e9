#include "fs/identity.hpp"

#include <grp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace gw::fs {
namespace {

long raw(long nr, long a, long b, long c) { return ::syscall(nr, a, b, c); }

}  // namespace

AsIdentity::AsIdentity(uid_t uid, gid_t gid) {
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
