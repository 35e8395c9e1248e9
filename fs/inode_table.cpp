#include "fs/inode_table.hpp"

#include <algorithm>

namespace gw::fs {

InodeTable::InodeTable() = default;

InodePtr InodeTable::get(fuse_ino_t id) const {
  std::lock_guard lock(mu_);
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.node;
}

void InodeTable::pin(const InodePtr& node) {
  std::lock_guard lock(mu_);
  pin_locked(node);
}

void InodeTable::pin(const std::vector<InodePtr>& nodes) {
  std::lock_guard lock(mu_);
  by_id_.reserve(by_id_.size() + nodes.size());
  for (const InodePtr& node : nodes) pin_locked(node);
}

void InodeTable::pin_locked(const InodePtr& node) {
  Entry& e = by_id_[node->id];
  e.node = node;
  e.pinned = true;
  if (node->is_backed()) by_key_[Key{node->mapping->id, node->dev, node->ino}] = node->id;
}

void InodeTable::unpin(fuse_ino_t id) {
  std::lock_guard lock(mu_);
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  it->second.pinned = false;
  if (it->second.lookups == 0) {
    const InodePtr& n = it->second.node;
    if (n->is_backed()) by_key_.erase(Key{n->mapping->id, n->dev, n->ino});
    by_id_.erase(it);
  }
}

InodePtr InodeTable::remember(const std::shared_ptr<const MappingRoot>& mapping, const struct stat& st,
                              FileHandle handle, SharedFd fd) {
  const Key key{mapping->id, st.st_dev, st.st_ino};
  std::lock_guard lock(mu_);
  if (const auto k = by_key_.find(key); k != by_key_.end()) {
    Entry& e = by_id_.at(k->second);
    // Same (dev, ino) but another type or another handle (the handle holds
    // the filesystem's generation of the number): the old object is gone,
    // removed behind the view's back, and the number was reused. The new
    // object gets a new inode; the old one stays known by id (the kernel
    // forgets it) and reaches nothing but its own, gone, object.
    const bool same_type = (e.node->type & S_IFMT) == (st.st_mode & S_IFMT);
    const bool same_handle = e.node->handle.empty() || handle.empty() || e.node->handle.bytes == handle.bytes;
    if (same_type && same_handle) {
      ++e.lookups;
      return e.node;
    }
    by_key_.erase(k);
  }
  auto node = std::make_shared<Inode>();
  node->id = next_id_.fetch_add(1);
  node->mapping = mapping;
  node->dev = st.st_dev;
  node->ino = st.st_ino;
  node->type = st.st_mode & S_IFMT;
  if (handle.empty()) node->pinned = std::move(fd);
  node->handle = std::move(handle);
  by_id_[node->id] = Entry{node, 1, false};
  by_key_[key] = node->id;
  high_ = std::max(high_, by_id_.size());
  return node;
}

InodePtr InodeTable::find(std::uint64_t mapping_id, dev_t dev, ino_t ino) const {
  std::lock_guard lock(mu_);
  const auto k = by_key_.find(Key{mapping_id, dev, ino});
  if (k == by_key_.end()) return nullptr;
  const auto it = by_id_.find(k->second);
  return it == by_id_.end() ? nullptr : it->second.node;
}

void InodeTable::retire(const InodePtr& node) {
  std::lock_guard lock(mu_);
  const auto k = by_key_.find(Key{node->mapping->id, node->dev, node->ino});
  if (k != by_key_.end() && k->second == node->id) by_key_.erase(k);
}

void InodeTable::add_reference(const InodePtr& node) {
  std::lock_guard lock(mu_);
  if (const auto it = by_id_.find(node->id); it != by_id_.end()) ++it->second.lookups;
}

bool InodeTable::forget(fuse_ino_t id, std::uint64_t count) {
  std::lock_guard lock(mu_);
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  Entry& e = it->second;
  e.lookups = count >= e.lookups ? 0 : e.lookups - count;
  if (e.lookups > 0 || e.pinned) return false;
  const InodePtr& n = e.node;
  if (n->is_backed()) {
    const auto k = by_key_.find(Key{n->mapping->id, n->dev, n->ino});
    if (k != by_key_.end() && k->second == id) by_key_.erase(k);
  }
  by_id_.erase(it);
  return true;
}

std::size_t InodeTable::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

bool InodeTable::shrank() {
  std::lock_guard lock(mu_);
  if (by_id_.size() >= high_ / 2 || high_ - by_id_.size() < kShrinkMin) return false;
  high_ = by_id_.size();
  // The bucket arrays of the largest size go too (1.7 MiB each at 200,000).
  by_id_.rehash(0);
  by_key_.rehash(0);
  return true;
}

}  // namespace gw::fs
