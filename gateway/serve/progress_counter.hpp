// How many requests the FUSE worker has served, in memory shared between the
// supervisor (which makes it, and keeps it across worker restarts) and the
// worker (which counts). The watchdog judges a worker by this progress, not
// by the latency of one probe: a worker whose threads are all busy with slow
// but finishing requests is not hung.
// The same page carries the supervisor's own counts for the metrics the
// worker exposes (fs/metrics.hpp: why the worker serves them): the
// supervisor writes them, the worker only reads.
#pragma once

#include <atomic>
#include <cstdint>

#include "gateway/events/delivery_counts.hpp"

namespace gw::gateway {

// What only the supervisor knows, since it started serving.
struct SupervisorCounts {
  std::atomic<std::uint64_t> worker_restarts{0};
  std::atomic<std::uint64_t> watchdog_hung{0};  // verdicts: aborted and replaced
  std::atomic<std::uint64_t> watchdog_slow{0};  // verdicts: slow to answer but serving, left alone
  // Upload events (gateway/events/courier.hpp): the spool's size, and each
  // sink's deliveries in the slot of its option.
  std::atomic<std::uint64_t> event_spool_bytes{0};
  DeliveryCounts event_sinks[kMaxSinks];
};

class ProgressCounter {
 public:
  // Makes a new counter (the supervisor): a memfd of one page, mapped shared.
  static ProgressCounter create();
  // Maps the counter behind `fd` (the worker, given the fd across exec).
  static ProgressCounter attach(int fd);

  ProgressCounter(ProgressCounter&& other) noexcept;
  ProgressCounter& operator=(ProgressCounter&&) = delete;
  ProgressCounter(const ProgressCounter&) = delete;
  ~ProgressCounter();

  int fd() const { return fd_; }
  std::atomic<std::uint64_t>* counter() const { return counter_; }
  std::uint64_t value() const { return counter_ ? counter_->load(std::memory_order_relaxed) : 0; }
  SupervisorCounts& supervisor() const { return *supervisor_; }

 private:
  ProgressCounter(int fd, std::atomic<std::uint64_t>* counter);
  int fd_ = -1;
  std::atomic<std::uint64_t>* counter_ = nullptr;  // the first bytes of the page
  SupervisorCounts* supervisor_ = nullptr;         // further in the same page
};

}  // namespace gw::gateway
