// The worker's side of the event spool (spool_dir.hpp): each event the view
// hands over becomes one JSON line appended to the current segment with ONE
// write(2), before the request is answered, so a worker killed after its
// reply has lost nothing (the page cache holds the line; the supervisor's
// couriers read it from there). Events, not the machine: without an fsync a
// power cut may lose the last seconds of the spool, as it may lose the
// files those events name.
//
// The writer starts a new segment at each worker start (one higher than any
// segment or cursor in the folder) and whenever the current one reaches its
// size; after each new segment a background job removes the oldest segments
// while the spool is over its limit, counting the events among them that
// some sink had not delivered (dropped: the only way an event is given up).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "fs/background_jobs.hpp"
#include "fs/event.hpp"
#include "fs/unique_fd.hpp"

namespace gw::gateway {

struct SpoolLimits {
  std::uint64_t segment_bytes = 1u << 20;  // a segment is closed at this size
  std::uint64_t spool_bytes = 64u << 20;   // --event-spool-limit
};

class SpoolWriter final : public fs::EventLog {
 public:
  // Opens the spool of `state_dir` (made when missing) and starts a new
  // segment. Throws ExitError when it cannot.
  SpoolWriter(const std::string& state_dir, SpoolLimits limits);
  ~SpoolWriter() override = default;
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // Appends the event. Takes the writer's lock for the one write (a new
  // segment is opened there too, once per segment_bytes); logs a failure
  // after the lock is released; never throws.
  void record(const fs::Event& event) noexcept override;

  // Removes the oldest segments while the spool is over its limit (the
  // background job runs this; a test may call it to wait for the result).
  void trim();

  std::uint64_t spooled(fs::EventKind kind) const {
    return spooled_[static_cast<std::size_t>(kind)].load(std::memory_order_relaxed);
  }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }  // not spooled: a write failed
  std::uint64_t segment() const { return segment_number_.load(std::memory_order_relaxed); }

 private:
  // What record() tells the log once the lock is released.
  enum class Note { none, first_failure, recovered };

  int open_segment_locked(std::uint64_t number);  // 0 or errno
  void post_trim();

  const SpoolLimits limits_;
  const fs::UniqueFd spool_;
  std::string id_prefix_;  // 16 hex digits from getrandom: unique across worker restarts

  std::mutex mu_;  // guards what follows; held only for the one write (and a new segment's open)
  fs::UniqueFd segment_;
  std::uint64_t segment_size_ = 0;
  std::uint64_t sequence_ = 0;
  std::uint64_t failures_ = 0;  // events lost since the last write that worked
  std::atomic<std::uint64_t> segment_number_{0};

  std::array<std::atomic<std::uint64_t>, fs::kEventKinds> spooled_{};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> lost_{0};
  std::mutex trim_mu_;          // one trim at a time
  fs::BackgroundJobs trimmer_;  // last: its job uses the members above
};

}  // namespace gw::gateway
