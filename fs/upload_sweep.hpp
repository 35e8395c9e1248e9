// Temporaries a dead worker left behind (kill -9, a crash): nothing will
// publish or remove them, so each atomic mapping's tree is swept once, when
// its root is built (in the background, right after): at start for every mapping, at a reload for the ones
// the reload builds (a kept mapping was swept when it was built, and a
// living worker leaves no dead temporaries). Never during a request: a
// listing or a lookup does not delete files.
//
// Removed: regular files named like a temporary, owned by the stored owner,
// whose inode last changed (ctime, which no client can set) before this
// worker started, and that are no upload of this worker. Anything newer may
// be an upload in progress of another gateway serving the same folder.
// Temporaries another gateway instance made (replicas sharing a volume: the
// name carries its tag, fs/upload.hpp) are its business while it may still
// be writing them: an upload whose client paused a moment before this worker
// started is not dead. They go only when unchanged for kForeignStale (their
// instance is gone for good: a replaced pod's).
//
// The walk is fd-relative, as the stored owner (a folder it cannot enter
// holds none of its temporaries), never follows a symlink, never leaves the
// mapping's filesystem (no mount, no bind mount), and goes at most
// kSweepDepth folders deep. It costs one open and one pass of getdents per
// folder and one fstatat per temporary name: 10,000 files in 100 folders
// took 3 ms at a gateway's start here, with a warm cache (5 ms in test_fs).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "fs/unique_fd.hpp"
#include "fs/view.hpp"

namespace gw::fs {

constexpr std::size_t kSweepDepth = 64;
constexpr time_t kForeignStale = 24 * 3600;  // seconds

// Whether an inode changed at `ctime` changed before `started`. A
// filesystem that keeps whole seconds (its nanoseconds always 0) rounds a
// ctime down: there only an earlier second counts, so a file made in the
// worker's first second is never taken for an older one.
bool changed_before(const struct timespec& ctime, const struct timespec& started);

// Whether a temporary with these attributes was left by a worker that died
// before `started` (not whether it is one of this worker's: see is_live).
bool left_by_dead_worker(const struct stat& st, uid_t stored_uid, const struct timespec& started);

struct SweepRule {
  dev_t dev = 0;                  // the mapping's filesystem: never left
  uid_t stored_uid = 0;           // whose temporaries these are
  struct timespec started {};     // this worker's start
  std::function<bool(std::string_view)> is_live;  // a temporary of this worker's uploads
  std::function<bool(std::string_view)> is_own = nullptr;  // made by this instance (unset: every one is)
  const std::atomic<bool>* stopping = nullptr;    // set: the walk ends early (the worker stops)
};

struct SweepCount {
  std::size_t folders = 0;   // read
  std::size_t removed = 0;   // temporaries
  std::size_t too_deep = 0;  // folders not entered: deeper than kSweepDepth
};

// Sweeps the tree of the folder `root` (a readable directory fd, closed at
// the end); `removed` is told each path removed, relative to the root. The
// caller runs it with the stored owner's identity.
SweepCount sweep_tree(UniqueFd root, const SweepRule& rule, const std::function<void(const std::string&)>& removed);

// Sweeps every writable atomic mapping among `roots` (mapping roots just
// built) not swept yet, one backing folder and stored owner once, and logs
// what it removed: posted to the view's background thread, so it never
// delays the mount or a reload (removed within moments of either). The
// build does this only for roots whose folders are about to be counted
// against a limit (the count must not see a dead worker's temporaries).
void sweep_left_behind(View& view, std::vector<InodePtr> roots);

// Every other root is swept on its first lookup (a login, a listing of the
// home), in the background as above: a start or a reload with 10,000 users
// walks no volume nobody uses, and a temporary nobody can see (the view
// hides them) costs only its space until then. Cheap for a root already
// claimed: one atomic exchange.
void sweep_on_first_use(View& view, const InodePtr& root);

}  // namespace gw::fs
