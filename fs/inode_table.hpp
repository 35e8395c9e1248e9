// FUSE ids and their lookup counts. The kernel holds a reference for every
// successful lookup/create/readdirplus entry and returns them with FORGET;
// an inode leaves the table exactly when its count reaches zero.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "fs/inode.hpp"

namespace gw::fs {

class InodeTable {
 public:
  InodeTable();

  InodePtr get(fuse_ino_t id) const;

  // Pinned inodes (synthetic nodes, mapping roots) are never forgotten.
  fuse_ino_t next_id() { return next_id_.fetch_add(1); }
  void pin(const InodePtr& node);
  // Many at once (a layout's): one lock, and the tables sized once.
  void pin(const std::vector<InodePtr>& nodes);
  void unpin(fuse_ino_t id);

  // The inode for a backing object seen through `mapping`, added if new;
  // counts one kernel reference. `handle` and `fd` are used only when the
  // object is new (fd is kept only if the filesystem gave no handle). A
  // known (dev, ino) whose type or handle differs is a new object under a
  // reused number: it gets a new inode.
  InodePtr remember(const std::shared_ptr<const MappingRoot>& mapping, const struct stat& st,
                    FileHandle handle, SharedFd fd);
  // The inode of a backing object, if the kernel knows it (no reference counted).
  InodePtr find(std::uint64_t mapping_id, dev_t dev, ino_t ino) const;

  // The backing object of `node` was replaced (an atomic overwrite): its
  // (dev, ino) no longer finds `node`, which stays known by id.
  void retire(const InodePtr& node);

  // Counts one more kernel reference on an inode already in the table.
  void add_reference(const InodePtr& node);

  // Returns true when the inode left the table.
  bool forget(fuse_ino_t id, std::uint64_t count);

  std::size_t size() const;

  // True once each time the table has fallen to under half of its largest
  // size since the last time it said so, by at least kShrinkMin entries:
  // the kernel forgot a large part of what it knew (a big listing's
  // inodes), and the memory they held is free to give back. Halving keeps
  // it to a few times per such drop (8 from 200,000 to none).
  bool shrank();
  static constexpr std::size_t kShrinkMin = 1024;  // about 0.6 MiB of inodes

 private:
  void pin_locked(const InodePtr& node);

  using Key = std::tuple<std::uint64_t, dev_t, ino_t>;  // (mapping id, dev, ino)
  // Hashed, not ordered: a listing of 200,000 entries looks each one up
  // here, and a tree's walk was 11% of that listing's CPU (perf, issue 16).
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      std::size_t h = std::hash<std::uint64_t>{}(std::get<0>(k));
      h = h * 1000003u ^ std::hash<dev_t>{}(std::get<1>(k));
      return h * 1000003u ^ std::hash<ino_t>{}(std::get<2>(k));
    }
  };
  struct Entry {
    InodePtr node;
    std::uint64_t lookups = 0;
    bool pinned = false;
  };
  // Guards both maps and every Entry. Never held across a syscall or a
  // fuse_reply_*: callers copy the shared_ptr out and let go.
  mutable std::mutex mu_;
  std::unordered_map<fuse_ino_t, Entry> by_id_;
  std::unordered_map<Key, fuse_ino_t, KeyHash> by_key_;
  std::size_t high_ = 0;  // the largest size of by_id_ since shrank() last said so
  std::atomic<fuse_ino_t> next_id_{FUSE_ROOT_ID + 1};
};

}  // namespace gw::fs
