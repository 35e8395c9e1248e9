// Detects a hung FUSE worker: a thread looks up a name in the view every
// second (a lookup that always reaches the worker: the answer is ENOENT, which
// the kernel does not cache). A worker is hung when that probe gets no answer
// within the timeout AND the worker served no request at all for twice the
// timeout (its progress counter stood still): a worker whose threads are all
// busy with slow but finishing requests (many large uploads to a slow disk)
// is not.
// A hung worker's FUSE connection is aborted (so everything waiting on it,
// sshd's chroot check included, fails at once instead of hanging) and it is
// reported. A view whose connection someone else aborted (the kernel's
// request timeout, fs.fuse.default_request_timeout; a write to
// /sys/fs/fuse/connections/N/abort) answers every probe with ENOTCONN at
// once: a live worker ends by itself then (its /dev/fuse read fails) and is
// restarted, but a stopped or stuck one does not, so a view that stays
// disconnected for twice the timeout has its worker reported the same way.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace gw::gateway {

class Watchdog {
 public:
  // `on_slow`: told once per probe that was late while requests were still
  // served (the "not a hang" verdict), for the metrics.
  Watchdog(std::string mountpoint, std::chrono::milliseconds timeout, std::function<std::uint64_t()> progress,
           std::function<void()> on_hang, std::function<void()> on_slow = {});
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void start();
  void stop();

 private:
  void watch();
  // Waits for the answer to probe `n`; false when none came and the worker
  // made no progress for a whole timeout.
  bool answered_within_timeout(std::unique_lock<std::mutex>& lock, std::uint64_t n);
  void probe_loop();
  // After an answered probe: true when the view has been disconnected for
  // the whole stall window (gone_since: since when, across probes).
  bool replace_disconnected(std::optional<std::chrono::steady_clock::time_point>& gone_since);

  std::string mountpoint_;
  std::chrono::milliseconds timeout_;  // for the probe's answer
  std::chrono::milliseconds stall_;    // without any request served: hung
  std::function<std::uint64_t()> progress_;
  std::function<void()> on_hang_;
  std::function<void()> on_slow_;
  std::mutex mu_;                 // guards the probe state below
  std::condition_variable cv_;
  std::uint64_t asked_ = 0, answered_ = 0;
  bool disconnected_ = false;  // the last answer was ENOTCONN
  bool stopping_ = false;
  std::thread watcher_, prober_;
};

// Writes to /sys/fs/fuse/connections/<id>/abort for the FUSE mount at
// `mountpoint` (mounting fusectl there first if needed). False if not found.
bool abort_fuse_connection(const std::string& mountpoint);

}  // namespace gw::gateway
