#include <malloc.h>

#include "fs/ops.hpp"

namespace gw::fs::ops {

void lookup(fuse_req_t req, fuse_ino_t parent_id, const char* name) {
  guarded(req, "lookup", [&] {
    View& view = view_of(req);
    const InodePtr parent = view.inodes().get(parent_id);
    if (!parent) return ESTALE;
    if (const Outcome e = view.policy().check(*parent, Op::lookup, caller_of(req))) return e.err;
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

// What the forgotten inodes held was freed by whichever FUSE thread dropped
// the last reference, into that thread's malloc arena; glibc gives an
// arena's memory back to the system only from its top, so without a trim
// the worker keeps the RSS of its largest listing for good (150 MiB after
// 200,000 entries). malloc_trim(0) returns the free pages of every arena
// (glibc >= 2.8). Done only when the table halved, so a few times per such
// drop, each taking milliseconds.
void give_back_memory(View& view) {
  if (view.inodes().shrank()) ::malloc_trim(0);
}

}  // namespace

void forget(fuse_req_t req, fuse_ino_t ino, std::uint64_t nlookup) {
  forget_one(view_of(req), ino, nlookup);
  give_back_memory(view_of(req));
  fuse_reply_none(req);
}

void forget_multi(fuse_req_t req, std::size_t count, struct fuse_forget_data* forgets) {
  View& view = view_of(req);
  for (std::size_t i = 0; i < count; ++i) forget_one(view, forgets[i].ino, forgets[i].nlookup);
  give_back_memory(view);
  fuse_reply_none(req);
}

}  // namespace gw::fs::ops
