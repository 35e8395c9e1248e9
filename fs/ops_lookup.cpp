#include "fs/ops.hpp"

namespace gw::fs::ops {

void lookup(fuse_req_t req, fuse_ino_t parent_id, const char* name) {
  guarded(req, "lookup", [&] {
    View& view = view_of(req);
    const InodePtr parent = view.inodes().get(parent_id);
    if (!parent) return ESTALE;
    if (const int e = view.policy().check(*parent, Op::lookup, caller_of(req))) return e;
    InodePtr child;
    struct stat attr {};
    if (const int e = lookup_child(view, parent, name, &child, &attr)) return e;
    reply_entry(req, view, child, attr);
    return 0;
  });
}

namespace {

void forget_one(View& view, fuse_ino_t id, std::uint64_t count) {
  if (view.inodes().forget(id, count)) view.fds().drop(id);
}

}  // namespace

void forget(fuse_req_t req, fuse_ino_t ino, std::uint64_t nlookup) {
  forget_one(view_of(req), ino, nlookup);
  fuse_reply_none(req);
}

void forget_multi(fuse_req_t req, std::size_t count, struct fuse_forget_data* forgets) {
  View& view = view_of(req);
  for (std::size_t i = 0; i < count; ++i) forget_one(view, forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

}  // namespace gw::fs::ops
