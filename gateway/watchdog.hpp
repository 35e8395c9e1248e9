// Detects a hung FUSE worker: a thread looks up a name in the view every
// second (a lookup that always reaches the worker: the answer is ENOENT, which
// the kernel does not cache). If no answer comes within the timeout, the
// watchdog aborts the FUSE connection (so everything waiting on it, sshd's
// chroot check included, fails at once instead of hanging) and reports it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace gw::gateway {

class Watchdog {
 public:
  Watchdog(std::string mountpoint, std::chrono::milliseconds timeout, std::function<void()> on_hang);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void start();
  void stop();

 private:
  void watch();
  void probe_loop();

  std::string mountpoint_;
  std::chrono::milliseconds timeout_;
  std::function<void()> on_hang_;
  std::mutex mu_;                 // guards the probe state below
  std::condition_variable cv_;
  std::uint64_t asked_ = 0, answered_ = 0;
  bool stopping_ = false;
  std::thread watcher_, prober_;
};

// Writes to /sys/fs/fuse/connections/<id>/abort for the FUSE mount at
// `mountpoint` (mounting fusectl there first if needed). False if not found.
bool abort_fuse_connection(const std::string& mountpoint);

}  // namespace gw::gateway
