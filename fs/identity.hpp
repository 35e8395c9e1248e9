// Per-thread credentials. Every operation inside a mapping runs as the
// mapping's stored owner, so what a user creates is owned by the stored owner
// from its first instant (no chown afterwards) and the backing store's own
// permissions apply. Raw setresgid/setresuid syscalls change only the calling
// thread (glibc's wrappers would change every thread of the process). Only the
// effective ids change: real and saved stay 0, so the thread can switch back.
//
// Every switch is undone at the end of its scope, although most requests of
// a session are for one stored owner: a thread left as the owner would run
// the next request's gateway steps as the user (open_by_handle_at needs
// CAP_DAC_READ_SEARCH, which a non-zero euid or fsuid drops; lookups; the
// event spool), so each of those would have to switch back first, and one
// step forgotten would fail only where the owner lacks a right, which few
// tests reach. The four calls cost 4-6% of the worker's CPU on small files
// (perf, issue 16), 12 of its 40 syscalls per uploaded file; setfsuid and
// setfsgid would cost the same (each is a prepare_creds/commit_creds too).
#pragma once

#include <sys/types.h>

namespace gw::fs {

class AsIdentity {
 public:
  // gid before uid: once the uid is not 0 the thread may no longer change
  // its gid. error() is non-zero (an errno) when the switch failed; the
  // operation must then fail. The first use on a thread also gives the thread
  // its own umask of 0 (the kernel already applied the client's).
  AsIdentity(uid_t uid, gid_t gid);
  ~AsIdentity();  // restores root; aborts the process if it cannot
  AsIdentity(const AsIdentity&) = delete;
  AsIdentity& operator=(const AsIdentity&) = delete;
  int error() const { return error_; }

 private:
  int error_ = 0;
  bool uid_changed_ = false;
  bool gid_changed_ = false;
};

// Drops supplementary groups for the whole process; call once at start-up,
// before any worker thread exists, so no thread carries root's groups.
int drop_supplementary_groups();

}  // namespace gw::fs
