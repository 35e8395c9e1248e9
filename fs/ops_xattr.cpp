#include <string_view>
#include <vector>

#include "fs/ops.hpp"

namespace gw::fs::ops {
namespace {

// Only the user. namespace passes: security.*, trusted.* and system.*
// (ACLs, capabilities) would let a user change who may do what.
bool allowed(std::string_view name) { return name.substr(0, 5) == "user."; }

struct Target {
  InodePtr node;
  SharedFd fd;
};

// `with_fd` false: the policy's verdict only, no descriptor opened.
int target(fuse_req_t req, fuse_ino_t ino, Op op, Target* t, bool with_fd = true) {
  View& view = view_of(req);
  t->node = view.inodes().get(ino);
  if (!t->node) return ESTALE;
  if (const Outcome e = view.policy().check(*t->node, op, caller_of(req))) return e.err;
  if (!with_fd || t->node->synthetic || S_ISLNK(t->node->type)) return 0;
  auto fd = node_fd(view, *t->node);
  if (!fd.ok()) return fd.err;
  t->fd = fd.value;
  return 0;
}

}  // namespace

void setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, std::size_t size, int flags) {
  guarded(req, "setxattr", [&] {
    Target t;
    if (const int e = target(req, ino, Op::setxattr, &t)) return e;
    if (!allowed(name) || !t.fd)
      return view_of(req).policy().refuse(*t.node, Op::setxattr, caller_of(req), EPERM, "xattr outside user.*").err;
    AsIdentity as(t.node->mapping->stored.uid, t.node->mapping->stored.gid);
    if (as.error()) return as.error();
    const int err = sys::setxattr_fd(t.fd->get(), name, value, size, flags);
    audit_node(view_of(req), caller_of(req), *t.node, Op::setxattr, err);
    if (err) return err;
    fuse_reply_err(req, 0);
    return 0;
  });
}

void removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  guarded(req, "removexattr", [&] {
    Target t;
    if (const int e = target(req, ino, Op::removexattr, &t)) return e;
    if (!allowed(name) || !t.fd)
      return view_of(req).policy().refuse(*t.node, Op::removexattr, caller_of(req), EPERM, "xattr outside user.*").err;
    AsIdentity as(t.node->mapping->stored.uid, t.node->mapping->stored.gid);
    if (as.error()) return as.error();
    const int err = sys::removexattr_fd(t.fd->get(), name);
    audit_node(view_of(req), caller_of(req), *t.node, Op::removexattr, err);
    if (err) return err;
    fuse_reply_err(req, 0);
    return 0;
  });
}

void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, std::size_t size) {
  guarded(req, "getxattr", [&] {
    Target t;
    // Other namespaces read as absent (ENODATA, not an error that would
    // make the kernel stop asking, e.g. for security.capability). The
    // kernel asks that before every write to a file (libfuse 3.14 cannot
    // turn it off): answered without opening the file, which for a file
    // just created would cost an open_by_handle_at and a cached descriptor.
    const bool readable = allowed(name);
    if (const int e = target(req, ino, Op::getxattr, &t, readable)) return e;
    if (!readable || !t.fd) return ENODATA;
    std::vector<char> buf(size);
    auto r = sys::getxattr_fd(t.fd->get(), name, size ? buf.data() : nullptr, size);
    if (!r.ok()) return r.err;
    if (size == 0) fuse_reply_xattr(req, r.value);
    else fuse_reply_buf(req, buf.data(), r.value);
    return 0;
  });
}

void listxattr(fuse_req_t req, fuse_ino_t ino, std::size_t size) {
  guarded(req, "listxattr", [&] {
    Target t;
    if (const int e = target(req, ino, Op::listxattr, &t)) return e;
    std::string names;
    if (t.fd) {
      auto need = sys::listxattr_fd(t.fd->get(), nullptr, 0);
      if (!need.ok()) return need.err;
      std::vector<char> all(need.value + 1);
      auto got = sys::listxattr_fd(t.fd->get(), all.data(), all.size());
      if (!got.ok()) return got.err;
      for (std::size_t i = 0; i < got.value;) {
        const std::string_view n(all.data() + i);
        if (allowed(n)) names.append(n).push_back('\0');
        i += n.size() + 1;
      }
    }
    if (size == 0) fuse_reply_xattr(req, names.size());
    else if (size < names.size()) return ERANGE;
    else fuse_reply_buf(req, names.data(), names.size());
    return 0;
  });
}

}  // namespace gw::fs::ops
