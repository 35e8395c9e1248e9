#include "fs/fd_cache.hpp"

#include <cerrno>

namespace gw::fs {

sys::Result<SharedFd> FdCache::get(const Inode& node) {
  if (node.pinned) return {node.pinned, 0};
  if (!node.mapping || node.handle.empty()) return {nullptr, ESTALE};
  {
    std::lock_guard lock(mu_);
    if (const auto it = index_.find(node.id); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return {it->second->second, 0};
    }
  }
  auto r = open_by_handle(node.mapping->mount_fd->get(), node.handle);
  if (!r.ok()) return {nullptr, r.err};
  auto fd = std::make_shared<const BackingFd>(std::move(r.value));
  put(node.id, fd);
  return {fd, 0};
}

void FdCache::put(fuse_ino_t id, SharedFd fd) {
  std::lock_guard lock(mu_);
  if (const auto it = index_.find(id); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(id, std::move(fd));
  index_[id] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

void FdCache::drop(fuse_ino_t id) {
  std::lock_guard lock(mu_);
  if (const auto it = index_.find(id); it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
}

std::size_t FdCache::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace gw::fs
