#include "fs/policy.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

namespace gw::fs {
namespace {

std::string_view where(const Inode& node) {
  return node.is_backed() ? std::string_view(node.mapping->label) : std::string_view("view");
}

}  // namespace

Outcome Policy::check(const Inode& node, Op op, const Caller& caller, std::string_view name,
                      std::string_view to) const {
  const bool writes = info(op).writes;
  if (op == Op::mknod)
    return refuse(node, op, caller, EPERM, "device nodes, fifos and sockets are not allowed", name, to);
  if (node.synthetic) {
    const uid_t only = node.synthetic->only_uid;
    if (only != 0 && caller.uid != 0 && caller.uid != only)
      return refuse(node, op, caller, EACCES, "another user's chroot", name, to);
    if (writes) return refuse(node, op, caller, EROFS, "the view's own directories and config are read-only", name, to);
    return 0;
  }
  // Root (sshd before it drops privileges, the administrator) may look; any
  // other uid only into its own tree, whatever the modes say.
  if (caller.uid != 0 && caller.uid != node.mapping->user.uid)
    return refuse(node, op, caller, EACCES, "another user's tree", name, to);
  if (writes && node.mapping->read_only) return refuse(node, op, caller, EROFS, "read-only mapping", name, to);
  return 0;
}

Outcome Policy::refuse(const Inode& node, Op op, const Caller& caller, int err, RefusalReason reason,
                       std::string_view name, std::string_view to) const {
  if (metrics_) metrics_->refusal(reason.kind());
  if (trail_.enabled()) {
    trail_.write({&node, op, name.empty() ? node.path() : child_path(node, name), std::string(to), err, 0, caller,
                  reason.text()});
  }
  if (events_) events_->refused(node, name, op, reason.text(), err);
  spdlog::info("refused {} on {} (inode {}) for uid {} pid {}: {} ({})", info(op).name, where(node), node.id,
               caller.uid, caller.pid, reason.text(), std::strerror(err));
  return Outcome::refusal(err);
}

}  // namespace gw::fs
