// A bounded cache of O_PATH descriptors for inodes the kernel remembers.
// Volumes hold hundreds of thousands of files and the open-file limit here is
// 20,000 (not raisable even by root), so an fd per known inode is not an
// option: inodes keep a file handle and are re-opened on demand.
#pragma once

#include <list>
#include <mutex>
#include <unordered_map>

#include "fs/inode.hpp"

namespace gw::fs {

class FdCache {
 public:
  explicit FdCache(std::size_t capacity) : capacity_(capacity) {}

  // The O_PATH fd of a backed inode. Must be called with the gateway's own
  // identity (re-opening by handle needs CAP_DAC_READ_SEARCH). The returned
  // fd stays valid while held, even if evicted meanwhile.
  sys::Result<SharedFd> get(const Inode& node);
  // Keeps an fd the worker just opened for `id` (a lookup), sparing a re-open.
  void put(fuse_ino_t id, SharedFd fd);
  void drop(fuse_ino_t id);
  std::size_t size() const;

 private:
  using Lru = std::list<std::pair<fuse_ino_t, SharedFd>>;
  std::size_t capacity_;
  // Guards lru_ and index_; not held while re-opening.
  mutable std::mutex mu_;
  Lru lru_;  // most recently used first
  std::unordered_map<fuse_ino_t, Lru::iterator> index_;
};

}  // namespace gw::fs
