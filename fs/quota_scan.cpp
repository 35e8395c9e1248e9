#include "fs/quota_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "fs/sys.hpp"
#include "fs/unique_fd.hpp"

namespace gw::fs {
namespace {

// One getdents64 call lists a folder of about 8,000 short names: a folder of
// 1,000 files costs two calls (32 KiB to 1 MiB measured alike: the time is
// in statx).
constexpr std::size_t kListBytes = 256 * 1024;

// A subfolder is entered by one name, never through a symlink, never into a
// mount point (RESOLVE_NO_XDEV refuses bind mounts of the same filesystem
// too, which a device number cannot tell apart).
constexpr int kFolderFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
constexpr unsigned long long kResolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

// What a non-folder entry needs: its type (d_type may be DT_UNKNOWN), size,
// link count, inode (for objects with several links) and whether it is a
// mount point (a file can be bind-mounted too). No times, owners or blocks.
constexpr unsigned kEntryMask = STATX_TYPE | STATX_SIZE | STATX_NLINK | STATX_INO;

bool dot_or_dotdot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// An object with several links, by device and inode.
struct Linked {
  dev_t dev;
  ino_t ino;
  bool operator==(const Linked&) const = default;
};
struct LinkedHash {
  std::size_t operator()(const Linked& l) const { return std::hash<ino_t>{}(l.ino) ^ std::hash<dev_t>{}(l.dev); }
};

// A folder on the walk's current path, the root first.
struct Folder {
  UniqueFd fd;           // invalid once evicted (see Walk)
  ino_t ino = 0;         // to recognise the folder when it is reopened as ".."
  std::string pending;   // its subfolders not yet entered: names, each ending in '\0'
  std::size_t next = 0;  // offset of the next of them in `pending`

  bool has_pending() const { return next < pending.size(); }
  std::uint64_t count_pending() const {
    const auto from = pending.begin() + static_cast<std::ptrdiff_t>(next);
    return static_cast<std::uint64_t>(std::count(from, pending.end(), '\0'));
  }
};

// Depth-first, with a bounded number of descriptors at any depth.
//
// A folder is listed completely as soon as it is entered: its files are
// counted at once and the names of its subfolders kept. After that its
// descriptor only serves to open the next subfolder, so it can be closed and
// reopened with no read position to restore. The walk keeps the root's
// descriptor and those of the deepest kScanOpenFolders - 1 folders of its
// path: going deeper closes the shallowest of these. Coming back up to a
// folder whose descriptor was closed, it reopens it as ".." of the child it
// has just finished and checks that this is the same folder (device and
// inode), so each folder costs at most one extra open and time stays linear
// at any depth. (Reopening by names from the root would cost the depth each
// time, quadratic on a deep tree; keeping one descriptor per level would let
// anyone who can make folders exhaust the worker's descriptors, and a depth
// limit would let deep files escape the count.) A folder moved elsewhere
// meanwhile (its child's ".." is now another folder) is not re-entered: its
// subfolders not yet entered are reported unreadable. No walk counts a tree
// that changes under it exactly; the next count does.
static_assert(kScanOpenFolders >= 2, "the top folder and the root stay open");

class Walk {
 public:
  explicit Walk(const std::atomic<bool>* stopping) : stopping_(stopping), buffer_(kListBytes) {}

  ScanResult run(int dir) {
    // Our own open file description: `dir` may be O_PATH, and its offset is
    // the caller's.
    auto root = sys::openat(dir, ".", kFolderFlags);
    struct stat st {};
    if (!root.ok() || sys::fstat(root.value.get(), &st) != 0) {
      result_.unreadable = 1;
      return result_;
    }
    dev_ = st.st_dev;
    path_.push_back(Folder{std::move(root.value), st.st_ino, {}, 0});
    list(path_.back());
    while (!path_.empty() && !stopped()) {
      Folder& top = path_.back();
      if (!top.has_pending()) {
        ascend();
        continue;
      }
      const char* name = top.pending.c_str() + top.next;
      top.next += std::strlen(name) + 1;
      descend(top, name);
    }
    return result_;
  }

 private:
  bool stopped() {
    if (stopping_ && stopping_->load(std::memory_order_relaxed)) result_.complete = false;
    return !result_.complete;
  }

  // Reads the top folder `f` to its end: every entry counts, what is not a
  // folder is inspected, the subfolders' names are kept for later.
  void list(Folder& f) {
    bool inspected_all = true;
    for (;;) {
      if (stopped()) return;
      const auto got = sys::getdents64(f.fd.get(), buffer_.data(), buffer_.size());
      if (!got.ok()) {
        ++result_.unreadable;  // what it listed so far is counted; the rest is missing
        return;
      }
      if (got.value == 0) break;
      for (std::size_t at = 0; at < got.value;) {
        const auto* e = reinterpret_cast<const struct dirent64*>(buffer_.data() + at);
        at += e->d_reclen;
        if (dot_or_dotdot(e->d_name)) continue;
        if (e->d_type == DT_DIR) {
          ++result_.usage.files;
          f.pending.append(e->d_name, std::strlen(e->d_name) + 1);
        } else if (!inspect(f, e->d_name)) {
          inspected_all = false;
        }
      }
    }
    // Listed but not searchable (mode r-- without x): the names count, their
    // sizes are unknown. Reported once for the folder.
    if (!inspected_all) ++result_.unreadable;
  }

  // One entry that is not known to be a folder. false: it exists but cannot
  // be examined (counted as an entry of 0 bytes).
  bool inspect(Folder& f, const char* name) {
    struct statx sx {};
    if (const int err = sys::statx_nofollow(f.fd.get(), name, kEntryMask, &sx)) {
      if (err == ENOENT) return true;  // removed since the listing: not there to count
      ++result_.usage.files;
      return false;
    }
    if (S_ISDIR(sx.stx_mode)) {  // DT_UNKNOWN from a filesystem without d_type
      ++result_.usage.files;
      f.pending.append(name, std::strlen(name) + 1);
      return true;
    }
    // A mount point (a file bind-mounted here) is an entry; what is mounted
    // on it is someone else's. The kernel says so (5.8 and later); before,
    // only another device tells. (Not the device alone: an overlayfs over
    // two filesystems shows its files with their layer's device.)
    const dev_t dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
    const bool kernel_tells = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0;
    const bool mount = kernel_tells ? (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0 : dev != dev_;
    if (mount) {
      ++result_.usage.files;
      return true;
    }
    // An object with several links counts once: only these are remembered.
    if (sx.stx_nlink > 1 && !linked_.insert({dev, sx.stx_ino}).second) return true;
    ++result_.usage.files;
    if (S_ISREG(sx.stx_mode) || S_ISLNK(sx.stx_mode)) result_.usage.bytes += sx.stx_size;
    return true;
  }

  // Enters the subfolder `name` of the top folder `parent` (both are used
  // before the new folder is added: adding it may move them).
  void descend(Folder& parent, const char* name) {
    auto fd = sys::openat2(parent.fd.get(), name, kFolderFlags, kResolve);
    if (!fd.ok()) {
      // EXDEV: a mount point, never entered. ENOENT, ENOTDIR, ELOOP: removed
      // or replaced since the listing. Anything else (EACCES, EMFILE, EIO):
      // a folder whose contents are missing from the count.
      if (fd.err != EXDEV && fd.err != ENOENT && fd.err != ENOTDIR && fd.err != ELOOP) ++result_.unreadable;
      return;
    }
    struct stat st {};
    if (sys::fstat(fd.value.get(), &st) != 0) {
      ++result_.unreadable;
      return;
    }
    if (st.st_dev != dev_) return;  // another filesystem without a mount (a btrfs subvolume)
    path_.push_back(Folder{std::move(fd.value), st.st_ino, {}, 0});
    // At most kScanOpenFolders open: the root and the deepest ones.
    if (path_.size() - first_open_ + 1 > kScanOpenFolders) path_[first_open_++].fd.reset();
    list(path_.back());
  }

  // The top folder is done: back to its parent, reopened if it was closed.
  void ascend() {
    UniqueFd child = std::move(path_.back().fd);
    path_.pop_back();
    if (path_.empty()) return;
    const std::size_t at = path_.size() - 1;
    if (at == 0 || at >= first_open_) return;  // the parent is open
    Folder& parent = path_.back();
    first_open_ = at;
    if (child.valid()) {
      auto up = sys::openat(child.get(), "..", kFolderFlags);
      struct stat st {};
      if (up.ok() && sys::fstat(up.value.get(), &st) == 0 && st.st_dev == dev_ && st.st_ino == parent.ino) {
        parent.fd = std::move(up.value);
        return;
      }
    }
    // Moved away, or its child could not be kept: give up what is left of it
    // (and so, in turn, of each ancestor that was closed too).
    result_.unreadable += parent.count_pending();
    parent.next = parent.pending.size();
  }

  const std::atomic<bool>* stopping_;
  std::vector<char> buffer_;               // one listing at a time: a folder is read to its end when entered
  std::vector<Folder> path_;               // the root, then each folder entered on the way to the current one
  std::size_t first_open_ = 1;             // path_[0] and every folder from here on hold their descriptor
  dev_t dev_ = 0;                          // the root's filesystem: never left
  std::unordered_set<Linked, LinkedHash> linked_;  // objects with several links, counted once
  ScanResult result_;
};

}  // namespace

ScanResult count_usage(int dir, const std::atomic<bool>* stopping) {
  Walk walk(stopping);
  return walk.run(dir);
}

}  // namespace gw::fs
