// How many files and folders each user may hold open through the view, and
// all users together. Open files hold a descriptor of the worker each (and
// folder handles a listing in memory), so without a cap one user's sessions
// could use up the worker's open-file limit and fail everyone's lookups and
// logins. A handle over the cap gets EMFILE.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <mutex>
#include <unordered_map>

namespace gw::fs {

class HandleQuota {
 public:
  HandleQuota(std::size_t open_files_per_user, std::size_t open_files_total)
      : open_files_per_user_(open_files_per_user), open_files_total_(open_files_total) {}

  // One handle counted against a user; given back when destroyed.
  class Token {
   public:
    Token() = default;
    Token(Token&& other) noexcept : quota_(other.quota_), uid_(other.uid_) { other.quota_ = nullptr; }
    Token& operator=(Token&& other) noexcept;
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;
    ~Token() { reset(); }
    explicit operator bool() const { return quota_ != nullptr; }
    void reset();

   private:
    friend class HandleQuota;
    Token(HandleQuota* quota, uid_t uid) : quota_(quota), uid_(uid) {}
    HandleQuota* quota_ = nullptr;
    uid_t uid_ = 0;
  };

  // A token for one more handle of `uid`; empty when `uid` or all users
  // together are at their cap.
  Token acquire(uid_t uid);

  std::size_t open_files_per_user() const { return open_files_per_user_; }
  std::size_t open_files_total() const { return open_files_total_; }
  std::size_t held(uid_t uid) const;
  std::size_t held() const;

 private:
  void give_back(uid_t uid);

  const std::size_t open_files_per_user_;
  const std::size_t open_files_total_;
  mutable std::mutex mu_;  // guards by_uid_ and held_
  std::unordered_map<uid_t, std::size_t> by_uid_;
  std::size_t held_ = 0;
};

}  // namespace gw::fs
