#include "fs/handle_quota.hpp"

namespace gw::fs {

HandleQuota::Token& HandleQuota::Token::operator=(Token&& other) noexcept {
  if (this != &other) {
    reset();
    quota_ = other.quota_;
    uid_ = other.uid_;
    other.quota_ = nullptr;
  }
  return *this;
}

void HandleQuota::Token::reset() {
  if (quota_) quota_->give_back(uid_);
  quota_ = nullptr;
}

HandleQuota::Token HandleQuota::acquire(uid_t uid) {
  std::lock_guard lock(mu_);
  std::size_t& mine = by_uid_[uid];
  if (mine >= open_files_per_user_ || held_ >= open_files_total_) {
    if (mine == 0) by_uid_.erase(uid);
    return {};
  }
  ++mine;
  ++held_;
  return Token(this, uid);
}

void HandleQuota::give_back(uid_t uid) {
  std::lock_guard lock(mu_);
  const auto it = by_uid_.find(uid);
  if (it == by_uid_.end()) return;
  if (--it->second == 0) by_uid_.erase(it);
  --held_;
}

std::size_t HandleQuota::held(uid_t uid) const {
  std::lock_guard lock(mu_);
  const auto it = by_uid_.find(uid);
  return it == by_uid_.end() ? 0 : it->second;
}

std::size_t HandleQuota::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

}  // namespace gw::fs
