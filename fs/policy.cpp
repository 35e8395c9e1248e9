#include "fs/policy.hpp"

#include <spdlog/spdlog.h>

#include "fs/audit.hpp"

#include <array>
#include <cstring>
#include <cerrno>

namespace gw::fs {
namespace {

constexpr std::array kOps = {
    OpInfo{"lookup", false},     OpInfo{"getattr", false},   OpInfo{"readlink", false},
    OpInfo{"open", false},       OpInfo{"readdir", false},   OpInfo{"statfs", false},
    OpInfo{"getxattr", false},   OpInfo{"listxattr", false}, OpInfo{"read", false},
    OpInfo{"setattr", true},     OpInfo{"open-write", true}, OpInfo{"create", true},
    OpInfo{"mkdir", true},       OpInfo{"mknod", true},      OpInfo{"symlink", true},
    OpInfo{"link", true},        OpInfo{"unlink", true},     OpInfo{"rmdir", true},
    OpInfo{"rename", true},      OpInfo{"setxattr", true},   OpInfo{"removexattr", true},
    OpInfo{"write", true},       OpInfo{"fallocate", true},
};
static_assert(kOps.size() == static_cast<std::size_t>(Op::fallocate) + 1, "one row per Op");

std::string_view where(const Inode& node) {
  return node.is_backed() ? std::string_view(node.mapping->label) : std::string_view("view");
}

}  // namespace

const OpInfo& info(Op op) { return kOps[static_cast<std::size_t>(op)]; }

int Policy::check(const Inode& node, Op op, const Caller& caller, std::string_view name) const {
  const bool writes = info(op).writes;
  if (op == Op::mknod) return refuse(node, op, caller, EPERM, "device nodes, fifos and sockets are not allowed", name);
  if (node.synthetic) {
    const uid_t only = node.synthetic->only_uid;
    if (only != 0 && caller.uid != 0 && caller.uid != only)
      return refuse(node, op, caller, EACCES, "another user's chroot", name);
    if (writes) return refuse(node, op, caller, EROFS, "the view's own directories and config are read-only", name);
    return 0;
  }
  // Root (sshd before it drops privileges, the administrator) may look; any
  // other uid only into its own tree, whatever the modes say.
  if (caller.uid != 0 && caller.uid != node.mapping->user.uid)
    return refuse(node, op, caller, EACCES, "another user's tree", name);
  if (writes && node.mapping->read_only) return refuse(node, op, caller, EROFS, "read-only mapping", name);
  return 0;
}

int Policy::refuse(const Inode& node, Op op, const Caller& caller, int err, std::string_view reason,
                   std::string_view name) const {
  if (audit_enabled()) {
    audit({&node, info(op).name, name.empty() ? node.path() : child_path(node, name), err, 0, caller, reason});
    mark_refusal_audited();
  }
  spdlog::info("refused {} on {} (inode {}) for uid {} pid {}: {} ({})", info(op).name, where(node), node.id,
               caller.uid, caller.pid, reason, std::strerror(err));
  return err;
}

}  // namespace gw::fs
