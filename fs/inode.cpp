#include "fs/inode.hpp"

#include <vector>

namespace gw::fs {

std::shared_ptr<const Inode::Mounts> Inode::mounts() const {
  std::lock_guard lock(mu_);
  return mounts_;
}

void Inode::set_mounts(std::shared_ptr<const Mounts> mounts) {
  std::lock_guard lock(mu_);
  mounts_ = std::move(mounts);
}

void Inode::set_place(std::shared_ptr<Inode> parent, std::string name) {
  std::lock_guard lock(mu_);
  parent_ = std::move(parent);
  name_ = std::move(name);
}

std::shared_ptr<Inode> Inode::place_parent() const {
  std::lock_guard lock(mu_);
  return parent_;
}

std::string Inode::place_name() const {
  std::lock_guard lock(mu_);
  return name_;
}

std::string Inode::path() const {
  std::vector<std::string> parts;
  const Inode* node = this;
  std::shared_ptr<Inode> hold;  // keeps each parent alive while we read it
  for (int depth = 0; node && depth < 4096; ++depth) {
    std::lock_guard lock(node->mu_);
    parts.push_back(node->name_);
    hold = node->parent_;
    node = hold.get();
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    if (it != parts.rbegin()) out += '/';
    out += *it;
  }
  return out.empty() ? "/" : out;
}

}  // namespace gw::fs

namespace gw::fs {

std::shared_ptr<const QuotaChain> Inode::cached_quotas(std::uint64_t generation) const {
  std::lock_guard lock(mu_);
  return quota_generation_ == generation ? quotas_ : nullptr;
}

void Inode::cache_quotas(std::uint64_t generation, std::shared_ptr<const QuotaChain> chain) const {
  std::lock_guard lock(mu_);
  quota_generation_ = generation;
  quotas_ = std::move(chain);
}

}  // namespace gw::fs
