// Which operations write, decided in one table and checked in one function
// that knows read-only mappings, synthetic (root-owned) nodes and whose tree
// a node belongs to. Every refusal is logged with its reason.
#pragma once

#include <sys/types.h>

#include <string_view>

#include "fs/inode.hpp"

namespace gw::fs {

enum class Op {
  lookup, getattr, readlink, open_read, readdir, statfs, getxattr, listxattr, read,
  setattr, open_write, create, mkdir, mknod, symlink, link, unlink, rmdir, rename,
  setxattr, removexattr, write, fallocate,
};

struct OpInfo {
  std::string_view name;
  bool writes;
};
const OpInfo& info(Op op);

struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

class Policy {
 public:
  // 0 when `caller` may do `op` on `node`, else the errno to answer. `name`:
  // the entry of folder `node` the op is about (create, unlink, ...), so a
  // refusal names the object, not its folder.
  int check(const Inode& node, Op op, const Caller& caller, std::string_view name = {}) const;
  // Logs a refusal decided by op code (a bad name, a cross-mapping rename)
  // and returns `err`, so refusals read: `return policy.refuse(...)`.
  int refuse(const Inode& node, Op op, const Caller& caller, int err, std::string_view reason,
             std::string_view name = {}) const;
};

}  // namespace gw::fs
