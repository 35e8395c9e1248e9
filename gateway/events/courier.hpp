// One sink's courier: delivers the spooled events (spool_reader.hpp) to the
// sink, in spool order per mapping, and keeps the sink's cursor. Runs in
// the supervisor, which outlives a worker, on threads of its own.
//
// Up to `parallel` deliveries are in flight, but never two events of one
// mapping at once, and never one before an earlier one of its mapping. A
// failed delivery is tried again after a backoff (1 s, doubling, at most
// 60 s), forever: only the spool's size limit gives an event up. The cursor
// moves over the leading run of delivered events, so it only ever covers
// events that are done; an event delivered after a later one was (other
// mappings overtake) or one in flight when the supervisor died is delivered
// again after a restart. At least once, then, and receivers tell repeats by
// the event's id.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fs/unique_fd.hpp"
#include "gateway/events/delivery_counts.hpp"
#include "gateway/events/sink.hpp"
#include "gateway/events/spool_reader.hpp"

namespace gw::gateway {

struct CourierOptions {
  unsigned parallel = 4;                          // --event-parallel
  std::chrono::milliseconds first_backoff{1000};  // after the first failure of an event
  std::chrono::milliseconds most_backoff{60000};
  std::size_t read_ahead = 4096;  // events read past the cursor at most (a stuck mapping holds the rest)
  // ... and their bytes at most: an event's line can be large (four paths of
  // long names, each bad UTF-8 byte six bytes escaped), and a stuck sink must
  // not make the supervisor hold gigabytes.
  std::size_t read_ahead_bytes = 8u << 20;
};

class Courier {
 public:
  // `sink` and `spool` (the spool folder's fd) outlive the courier. `sinks`:
  // every configured sink's name (a segment goes once all have passed it).
  // `counts` and `spool_bytes`, where given, are kept up to date.
  Courier(Sink& sink, int spool, std::vector<std::string> sinks, CourierOptions options,
          DeliveryCounts* counts = nullptr, std::atomic<std::uint64_t>* spool_bytes = nullptr);
  ~Courier();
  Courier(const Courier&) = delete;
  Courier& operator=(const Courier&) = delete;

  // Goes on from the sink's cursor (prepare_cursors made it). Throws
  // ExitError when its threads or its wake-up cannot be made.
  void start();
  // Asks the threads to stop and returns: nothing new is started.
  void request_stop();
  // Waits for the deliveries in flight (each within the sink's time limit),
  // records them in the cursor, and joins the threads.
  void stop();

 private:
  enum class State { waiting, in_flight, done };
  struct Entry {
    SpooledLine line;
    State state = State::waiting;
    unsigned attempts = 0;
    std::chrono::steady_clock::time_point not_before{};
  };

  void dispatch_loop();
  void deliver_loop();
  void finish(std::uint64_t seq, const DeliveryResult& result);
  void advance_cursor();
  void read_spool();
  // Hands every event that may go now to the delivery threads; returns
  // when the next one waiting for its backoff may go.
  std::chrono::steady_clock::time_point schedule();
  // Returns at `until`, at news of the spool, at a delivery's end or at stop.
  void wait_for_news(std::chrono::steady_clock::time_point until);
  bool drain_inotify();  // true when a segment changed
  void gather(std::chrono::steady_clock::time_point until);  // lets a burst of writes gather (kGather)
  void wake() const;
  // Counts the spool's bytes when it changed, at most once a second;
  // returns when the next count is due (max: none).
  std::chrono::steady_clock::time_point count_spool();
  std::chrono::milliseconds backoff(unsigned attempts) const;
  Entry& entry(std::uint64_t seq) { return window_[seq - first_seq_]; }

  Sink& sink_;
  const int spool_;
  const std::vector<std::string> sinks_;
  const CourierOptions options_;
  DeliveryCounts* const counts_;
  std::atomic<std::uint64_t>* const spool_bytes_;

  fs::UniqueFd wake_fd_;     // eventfd: a delivery finished, or stop
  fs::UniqueFd inotify_fd_;  // the spool folder's changes; invalid: poll instead
  // Used by the dispatch thread alone.
  std::optional<SpoolReader> reader_;
  SpoolPosition cursor_;     // as last written
  bool cursor_failing_ = false;
  std::chrono::steady_clock::time_point spool_counted_{};
  bool spool_changed_ = true;  // read from or moved on in since the last count

  std::mutex mu_;  // guards what follows; never held across a delivery or a file write
  std::condition_variable work_;  // tasks_ got one, or stopping_
  std::condition_variable idle_;  // in_flight_ went down
  std::deque<Entry> window_;      // events read and not yet behind the cursor, oldest first
  std::size_t window_bytes_ = 0;  // the bytes of their lines
  std::uint64_t first_seq_ = 0;   // window_.front()'s sequence number
  std::deque<std::uint64_t> tasks_;  // sequence numbers handed out, not taken yet
  unsigned in_flight_ = 0;        // handed out and not finished (tasks_ included)
  bool stopping_ = false;

  std::thread dispatcher_;
  std::vector<std::thread> deliverers_;
};

}  // namespace gw::gateway
