#include "fs/upload_sweep.hpp"

#include <dirent.h>
#include <linux/openat2.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "fs/identity.hpp"
#include "fs/request.hpp"
#include "fs/sys.hpp"

namespace gw::fs {
namespace {

// A folder being read, and its path below the root ("" for the root).
struct Level {
  DIR* dir = nullptr;
  std::string path;
};

std::string below(const std::string& parent, std::string_view name) {
  return parent.empty() ? std::string(name) : parent + "/" + std::string(name);
}

class Walk {
 public:
  Walk(const SweepRule& rule, const std::function<void(const std::string&)>& removed)
      : rule_(rule), removed_(removed) {}
  Walk(const Walk&) = delete;
  Walk& operator=(const Walk&) = delete;
  ~Walk() {
    for (const Level& l : stack_) ::closedir(l.dir);
  }

  SweepCount run(UniqueFd root) {
    enter(std::move(root), "");
    while (!stack_.empty() && !(rule_.stopping && rule_.stopping->load(std::memory_order_relaxed))) {
      DIR* dir = stack_.back().dir;
      const struct dirent* e = ::readdir(dir);
      if (!e) {  // the end, or a folder that cannot be read on: done with it
        ::closedir(dir);
        stack_.pop_back();
        continue;
      }
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      // A folder named like a temporary is none of the gateway's: the view
      // never shows or enters it.
      if (Uploads::is_temporary(name)) consider(::dirfd(dir), e->d_name);
      else if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) descend(::dirfd(dir), e->d_name);
    }
    return count_;
  }

 private:
  void enter(UniqueFd fd, std::string path) {
    DIR* dir = ::fdopendir(fd.get());
    if (!dir) return;  // fd closes with `fd`
    fd.release();      // owned by dir now
    stack_.push_back({dir, std::move(path)});
    ++count_.folders;
  }

  void consider(int dir_fd, const char* name) {
    struct stat st {};
    if (sys::fstatat_nofollow(dir_fd, name, &st) != 0) return;
    const bool own = !rule_.is_own || rule_.is_own(name);
    const struct timespec before = own ? rule_.started : foreign_before();
    if (!left_by_dead_worker(st, rule_.stored_uid, before) || (rule_.is_live && rule_.is_live(name))) return;
    if (sys::unlinkat(dir_fd, name, 0) != 0) return;
    ++count_.removed;
    removed_(below(stack_.back().path, name));
  }

  struct timespec foreign_before() const { return {rule_.started.tv_sec - kForeignStale, rule_.started.tv_nsec}; }

  void descend(int dir_fd, const char* name) {
    if (stack_.size() > kSweepDepth) {
      ++count_.too_deep;
      return;
    }
    // One name, never a symlink, never across a mount (RESOLVE_NO_XDEV
    // also stops at a bind mount of the same filesystem).
    auto fd = sys::openat2(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
                           RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (!fd.ok()) return;  // not a folder (DT_UNKNOWN), or not the stored owner's to enter
    struct stat st {};
    if (sys::fstat(fd.value.get(), &st) != 0 || st.st_dev != rule_.dev) return;  // another filesystem (a subvolume)
    enter(std::move(fd.value), below(stack_.back().path, name));
  }

  const SweepRule& rule_;
  const std::function<void(const std::string&)>& removed_;
  std::vector<Level> stack_;  // the folders open, root first: at most kSweepDepth + 1 descriptors
  SweepCount count_;
};

// Sweeps one mapping's tree as its stored owner.
SweepCount sweep_mapping(View& view, const Inode& root, const std::atomic<bool>* stopping) {
  const MappingRoot& m = *root.mapping;
  auto path = view.fds().get(root);  // as the gateway: reopening by handle needs it
  if (!path.ok()) return {};
  AsIdentity as(m.stored.uid, m.stored.gid);
  if (as.error()) return {};
  auto fd = sys::reopen(view.proc_fd(), path.value->get(), O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return {};
  const SweepRule rule{m.dev, m.stored.uid, view.started(),
                       [&view](std::string_view name) { return view.uploads().is_live_temporary(name); },
                       [&view](std::string_view name) { return view.uploads().is_own_temporary(name); }, stopping};
  const std::string where = root.path();
  return sweep_tree(std::move(fd.value), rule, [&](const std::string& removed) {
    spdlog::info("{}: removed {}/{}, left by an interrupted upload", m.label, where, removed);
  });
}

}  // namespace

bool changed_before(const struct timespec& ctime, const struct timespec& started) {
  if (ctime.tv_nsec == 0) return ctime.tv_sec < started.tv_sec;
  return std::tie(ctime.tv_sec, ctime.tv_nsec) < std::tie(started.tv_sec, started.tv_nsec);
}

bool left_by_dead_worker(const struct stat& st, uid_t stored_uid, const struct timespec& started) {
  return S_ISREG(st.st_mode) && st.st_uid == stored_uid && changed_before(st.st_ctim, started);
}

SweepCount sweep_tree(UniqueFd root, const SweepRule& rule, const std::function<void(const std::string&)>& removed) {
  Walk walk(rule, removed);
  return walk.run(std::move(root));
}

void sweep_on_first_use(View& view, const InodePtr& root) {
  if (!root->is_root || !root->mapping || root->mapping->sweep_claimed.load(std::memory_order_relaxed)) return;
  sweep_left_behind(view, {root});
}

void sweep_left_behind(View& view, std::vector<InodePtr> roots) {
  // A root is swept once, by whoever claims it first.
  std::erase_if(roots, [](const InodePtr& root) {
    return !root->is_root || !root->mapping || root->mapping->sweep_claimed.exchange(true);
  });
  if (roots.empty()) return;
  // On the view's background thread, after the build: a large volume on a
  // slow disk must not hold up the mount or a reload (the supervisor gives a
  // worker 60 s to mount). The roots are kept alive by the job; a worker
  // that stops tells the walk to stop. AsIdentity gives that thread the
  // stored owner's credentials and a umask of 0 while it sweeps.
  view.background().post([&view, roots = std::move(roots)](const std::atomic<bool>& stopping) {
    std::set<std::tuple<dev_t, ino_t, uid_t>> swept;
    try {
      for (const InodePtr& root : roots) {
        if (stopping) return;
        // A read-only mapping is never written, not even to clean up.
        if (!root->is_backed() || !root->mapping->atomic || root->mapping->read_only) continue;
        if (!swept.emplace(root->dev, root->ino, root->mapping->stored.uid).second) continue;
        const auto start = std::chrono::steady_clock::now();
        const SweepCount n = sweep_mapping(view, *root, &stopping);
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        spdlog::debug("{}: swept {} folder(s) for temporaries of a dead worker in {} ms, {} removed",
                      root->mapping->label, n.folders, ms, n.removed);
        if (n.too_deep)
          spdlog::info("{}: {} folder(s) deeper than {} levels not swept for temporaries of a dead worker",
                       root->mapping->label, n.too_deep, kSweepDepth);
      }
    } catch (const std::exception& e) {
      spdlog::error("sweeping temporaries of a dead worker: {}", e.what());
    }
  });
}

}  // namespace gw::fs
