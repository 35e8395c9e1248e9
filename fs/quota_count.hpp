// Counting the limited folders (fs/quota.hpp) on the view's background
// thread: each one at start and at every reload (fs/quota_layout.cpp), and
// all of them every --quota-rescan seconds, so that what was written behind
// the gateway's back (the consumer container) is seen.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "fs/inode.hpp"
#include "fs/quota.hpp"

namespace gw::fs {

class View;

// A limited folder and a root of the view that opens it.
using CountTarget = std::pair<QuotaPtr, InodePtr>;

// Posts a count of each target to the view's background thread (one waiting
// count per folder at most).
void count_folders(View& view, const std::vector<CountTarget>& targets);

// Counts the targets every `interval` seconds (0: never), from a thread of
// its own that only posts the counts.
class Rescans {
 public:
  Rescans() = default;
  Rescans(const Rescans&) = delete;
  Rescans& operator=(const Rescans&) = delete;
  ~Rescans();

  void set(View& view, double interval, std::vector<CountTarget> targets);
  // Counts the targets now (a reload that rebuilt nothing).
  void count_now();

 private:
  void run(View* view);

  std::mutex mu_;  // guards everything below
  std::condition_variable wake_;
  View* view_ = nullptr;
  double interval_ = 0;
  std::vector<CountTarget> targets_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gw::fs
