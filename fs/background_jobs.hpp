// Work the view does off the request path and off start-up (the sweep of a
// dead worker's temporaries, which reads whole trees): one thread, jobs in
// the order posted, started with the first job. Destroying it tells the
// running job to stop (the flag each job is given), drops the jobs not
// started and joins the thread, so a job may use whatever outlives this
// object (declare it after what its jobs use).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace gw::fs {

class BackgroundJobs {
 public:
  using Job = std::function<void(const std::atomic<bool>& stopping)>;

  BackgroundJobs() = default;
  BackgroundJobs(const BackgroundJobs&) = delete;
  BackgroundJobs& operator=(const BackgroundJobs&) = delete;
  ~BackgroundJobs();

  void post(Job job);

 private:
  void run();

  std::mutex mu_;  // guards jobs_ and the start of thread_
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace gw::fs
