// The filesystem object: everything a request handler needs, reached through
// fuse_req_userdata (no globals).
#pragma once

#include <atomic>
#include <ctime>
#include <map>
#include <string>
#include <memory>
#include <mutex>
#include <vector>

#include "fs/audit.hpp"
#include "fs/event.hpp"
#include "fs/fd_cache.hpp"
#include "fs/handle_quota.hpp"
#include "fs/background_jobs.hpp"
#include "fs/inode_table.hpp"
#include "fs/kernel_paths.hpp"
#include "fs/metrics.hpp"
#include "fs/passthrough.hpp"
#include "fs/policy.hpp"
#include "fs/quota.hpp"
#include "fs/quota_count.hpp"
#include "fs/unique_fd.hpp"
#include "fs/upload.hpp"
#include "fs/view_events.hpp"
#include "mapping/plan.hpp"

namespace gw::fs {

struct ViewOptions {
  double cache_timeout = 1.0;      // kernel attribute/entry cache, seconds
  std::size_t fd_cache = 4096;     // O_PATH fds kept for known inodes
  // Open files and folders (--open-files-per-user, shared out by the
  // gateway under the worker's open-file limit): per user, and of all users.
  std::size_t open_files_per_user = 0;
  std::size_t open_files_total = 0;
  // Seconds between counts of every limited folder (0: only at start and
  // at each reload).
  double quota_rescan = 300;
  // This gateway instance's tag in upload temporaries' names (lowercase
  // hex; empty: none): replicas sharing a volume tell theirs apart
  // (fs/upload_sweep.hpp).
  std::string upload_tag = {};
  // The kernel paths asked for at INIT (fs/kernel_paths.hpp).
  KernelPaths kernel = {};
};

// The synthetic tree and the pinned inodes of one plan.
// One user's built tree: kept so that a reload rebuilds only the users whose
// plan changed (same inode ids, no re-open, no allocation for the others).
struct UserTree {
  mapping::UserPlan plan;
  InodePtr chroot;
  // The user's mapping roots: a reload reuses one whose plan did not change.
  std::vector<InodePtr> roots;
  std::vector<InodePtr> pinned;  // every inode of the tree
};

// Each user's tree by name, shared: a build takes an unchanged user's
// tree over from the served layout without copying it.
using UserTrees = std::map<std::string, std::shared_ptr<const UserTree>>;

struct Layout {
  InodePtr root;
  std::vector<InodePtr> pinned;  // the inodes outside users' trees: root, data/, etc/ and its files
  std::shared_ptr<UserTrees> users;
  std::size_t mappings = 0;  // mapping roots served, homes included
};

class View {
 public:
  // `audit`: where audit lines go (the gateway decides; default: nowhere).
  explicit View(ViewOptions options, AuditTrail audit = {});

  InodeTable& inodes() { return inodes_; }
  FdCache& fds() { return fds_; }
  const Policy& policy() const { return policy_; }
  Metrics& metrics() { return metrics_; }
  const Metrics& metrics() const { return metrics_; }
  const AuditTrail& audit() const { return audit_; }
  Uploads& uploads() { return uploads_; }
  HandleQuota& handles() { return handles_; }
  Quotas& quotas() { return quotas_; }
  const Quotas& quotas() const { return quotas_; }
  int proc_fd() const { return proc_self_fd_.get(); }
  double timeout() const { return options_.cache_timeout; }
  const KernelPaths& kernel_paths() const { return options_.kernel; }
  Passthrough& passthrough() { return passthrough_; }
  // With --fuse-io-uring, logs once whether requests arrive over the ring
  // (libfuse falls back to /dev/fuse silently): one relaxed load per
  // request once that is known.
  void note_transport(fuse_req_t req) noexcept {
    if (!transport_known_.load(std::memory_order_relaxed)) note_transport_slow(req);
  }
  std::uint64_t next_mapping_id() { return next_mapping_id_.fetch_add(1); }
  // When this worker's view was made (the kernel's coarse clock, which file
  // times come from): an upload temporary last changed before then belongs
  // to a worker that died, and no one will finish it.
  const struct timespec& started() const { return started_; }
  // Where served requests are counted (shared with the supervisor's
  // watchdog), if anywhere. Set before the session runs.
  void set_served_counter(std::atomic<std::uint64_t>* counter) { served_ = counter; }
  void count_served() noexcept {
    if (served_) served_->fetch_add(1, std::memory_order_relaxed);
  }
  // Where events go (fs/event.hpp), if anywhere: without a log no request
  // builds one. Set before the session runs.
  void set_event_log(EventLog* log) { events_.set_log(log); }
  EventLog* event_log() const { return events_.log(); }
  const ViewEvents& events() const { return events_; }

  // Makes `layout` the served tree (its root becomes FUSE_ROOT_ID). Inodes of
  // the previous layout stay valid for as long as the kernel holds them. A
  // user's tree served already (the same object) is neither pinned nor
  // unpinned again: the work follows the users that changed.
  void install(Layout layout);
  InodePtr root() const;
  // The served layout's per-user trees (null before the first install), for
  // a reload to reuse; how many mapping roots they hold. Only the thread
  // that installs and edits layouts may walk the map: an edit changes it in
  // place. Others count users or visit them under the lock.
  std::shared_ptr<const UserTrees> users() const;
  std::size_t user_count() const;
  template <class Visit>
  void each_user(Visit visit) const {
    std::lock_guard lock(layout_mu_);
    if (layout_.users)
      for (const auto& [name, tree] : *layout_.users) visit(*tree);
  }
  std::size_t mappings() const;

  // An edit of the served layout in place (fs/layout_edit.hpp), on the
  // thread that installs layouts. put_user pins the new tree and unpins what
  // only the tree it replaces held; remove_user unpins a user's whole tree.
  void put_user(const std::string& name, std::shared_ptr<const UserTree> tree);
  void remove_user(const std::string& name);
  // An inode outside users' trees (an etc/ file) comes or goes.
  void pin_extra(InodePtr node);
  void unpin_extra(const InodePtr& node);

  // The directory fd for open_by_handle_at on the filesystem `dev` (made
  // from `dir_fd`, a directory on it, the first time).
  sys::Result<std::shared_ptr<const UniqueFd>> mount_fd(dev_t dev, int dir_fd);

  // Tells the kernel to drop what it cached of these files (attributes and
  // pages): synthetic files after a reload, an overwrite that was undone.
  void invalidate_files(const std::vector<fuse_ino_t>& ids) const;

  // Work done off the request path (the sweep of a dead worker's
  // temporaries, the counts of limited folders).
  BackgroundJobs& background() { return background_; }
  Rescans& rescans() { return rescans_; }
  double quota_rescan() const { return options_.quota_rescan; }

  void set_session(struct fuse_session* se) { session_.store(se); }
  struct fuse_session* session() const { return session_.load(); }

 private:
  void invalidate(const Layout& old) const;
  void note_transport_slow(fuse_req_t req) noexcept;

  ViewOptions options_;
  InodeTable inodes_;
  FdCache fds_;
  const AuditTrail audit_;
  Metrics metrics_;
  ViewEvents events_{&metrics_};      // after metrics_: it counts events there
  Policy policy_{audit_, &metrics_, &events_};  // after those: it writes, counts and reports refusals there
  Uploads uploads_;
  HandleQuota handles_;
  Quotas quotas_;
  Passthrough passthrough_;
  std::atomic<bool> transport_known_;
  std::atomic<unsigned> transport_checks_{0};
  UniqueFd proc_self_fd_;  // opened once: reopen-by-fd without path lookups later
  std::atomic<std::uint64_t> next_mapping_id_{1};
  const struct timespec started_;
  std::atomic<std::uint64_t>* served_ = nullptr;
  std::atomic<struct fuse_session*> session_{nullptr};
  mutable std::mutex layout_mu_;  // guards layout_; never held across a syscall
  Layout layout_;
  std::mutex mount_fds_mu_;       // guards mount_fds_
  std::map<dev_t, std::shared_ptr<const UniqueFd>> mount_fds_;
  BackgroundJobs background_;  // destroyed (its thread joined) before what its jobs use
  Rescans rescans_;             // after background_: it posts there
};

View& view_of(fuse_req_t req);

}  // namespace gw::fs
