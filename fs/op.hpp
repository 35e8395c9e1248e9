// What a request does and who asks: the words the policy (may this caller
// do it?) and the audit trail (what was done) share, apart from either.
#pragma once

#include <sys/types.h>

#include <string_view>

namespace gw::fs {

// Every operation the policy checks or the audit trail names. `write` is
// the line a file's release writes (the bytes written through the handle);
// each write call is not checked again: open_write decided for the handle.
enum class Op {
  lookup, getattr, readlink, open_read, readdir, statfs, getxattr, listxattr,
  setattr, open_write, create, mkdir, mknod, symlink, link, unlink, rmdir, rename,
  setxattr, removexattr, write, fallocate,
};

struct OpInfo {
  std::string_view name;  // as logs and audit lines show it
  bool writes;            // refused in read-only mappings and the view's own tree
};
const OpInfo& info(Op op);

// Who asks, from the request's context (the client's credentials as the
// kernel saw them).
struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

}  // namespace gw::fs
