#include "gateway/events/courier.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <unordered_set>

#include "gateway/exit_codes.hpp"

namespace gw::gateway {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How the dispatcher learns of new events. inotify on the spool folder: the
// worker's write wakes it at once, and an idle courier costs nothing. A
// poll would have to choose between latency and wake-ups for nothing. The
// folder is re-read every few seconds all the same, so a missed
// notification (a full queue) only delays; without inotify (no instance
// left) the courier polls.
constexpr auto kReread = 5s;
constexpr auto kPollWithoutInotify = 250ms;
// After a notification the courier waits this long before it reads again:
// uploads come in bursts, one spool write each, and a courier that woke and
// read the spool per write cost the worker and itself more than the events
// (2,000 small uploads with the endpoint down: +12% worker CPU, 0.15 s of
// the supervisor's). Meanwhile the kernel merges the writes' notifications
// into one. Each delivery waits up to this much longer.
constexpr auto kGather = 50ms;
constexpr auto kSpoolCount = 1s;  // the spool's size gauge: counted after a change, this often at most

constexpr std::string_view kSegmentSuffix = ".jsonl";

}  // namespace

Courier::Courier(Sink& sink, int spool, std::vector<std::string> sinks, CourierOptions options,
                 DeliveryCounts* counts, std::atomic<std::uint64_t>* spool_bytes)
    : sink_(sink),
      spool_(spool),
      sinks_(std::move(sinks)),
      options_(options),
      counts_(counts),
      spool_bytes_(spool_bytes) {}

Courier::~Courier() { stop(); }

void Courier::start() {
  wake_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd_.valid()) {
    const int e = errno;
    throw ExitError(exit_code::failure, "event courier " + sink_.name() + ": eventfd: " + std::strerror(e));
  }
  // The magic link names the folder the fd is: no path is looked up again.
  const std::string folder = "/proc/self/fd/" + std::to_string(spool_);
  inotify_fd_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  int err = errno;
  if (inotify_fd_.valid() && ::inotify_add_watch(inotify_fd_.get(), folder.c_str(), IN_MODIFY | IN_CREATE) < 0) {
    err = errno;
    inotify_fd_.reset();
  }
  if (!inotify_fd_.valid())
    spdlog::warn("event courier {}: no inotify ({}); polling the spool every {} ms", sink_.name(), std::strerror(err),
                 kPollWithoutInotify.count());
  cursor_ = read_cursor(spool_, sink_.name()).value_or(SpoolPosition{});
  reader_.emplace(spool_, cursor_);
  for (unsigned i = 0; i < options_.parallel; ++i) deliverers_.emplace_back([this] { deliver_loop(); });
  dispatcher_ = std::thread([this] { dispatch_loop(); });
}

void Courier::request_stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  wake();
}

void Courier::stop() {
  request_stop();
  if (dispatcher_.joinable()) dispatcher_.join();
  for (std::thread& t : deliverers_) t.join();
  deliverers_.clear();
}

void Courier::wake() const {
  const std::uint64_t one = 1;
  if (wake_fd_.valid()) [[maybe_unused]] auto n = ::write(wake_fd_.get(), &one, sizeof one);
}

void Courier::dispatch_loop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    Clock::time_point next = Clock::now() + kReread;
    try {
      read_spool();
      next = schedule();
      // After the hand-out: the cursor's write (an fsync) holds up no delivery.
      advance_cursor();
      next = std::min(next, count_spool());
    } catch (const std::exception& e) {  // no memory, most likely: try again in a while, never die
      spdlog::error("event courier {}: {}", sink_.name(), e.what());
    }
    wait_for_news(next);
  }
  // Nothing new starts; what is in flight finishes (within the sink's time
  // limit) and is recorded, so the cursor covers exactly what was done.
  {
    std::unique_lock lock(mu_);
    for (const std::uint64_t seq : tasks_) entry(seq).state = State::waiting;
    in_flight_ -= static_cast<unsigned>(tasks_.size());
    tasks_.clear();
    idle_.wait(lock, [this] { return in_flight_ == 0; });
  }
  try {
    advance_cursor();
  } catch (const std::exception& e) {
    spdlog::error("event courier {}: {}", sink_.name(), e.what());
  }
  if (counts_) {
    std::lock_guard lock(mu_);
    const auto undelivered = std::count_if(window_.begin(), window_.end(), [](const Entry& e) { return e.state != State::done; });
    counts_->pending.store(static_cast<std::uint64_t>(undelivered), std::memory_order_relaxed);
  }
}

void Courier::deliver_loop() {
  for (;;) {
    std::uint64_t seq = 0;
    SpooledEvent event;
    {
      std::unique_lock lock(mu_);
      work_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (stopping_) return;
      seq = tasks_.front();
      tasks_.pop_front();
      event = entry(seq).line.event;
    }
    DeliveryResult result;
    try {
      result = sink_.deliver(event);
    } catch (const std::exception& e) {  // a sink's bug is a failed attempt, not a dead courier
      result = {false, e.what()};
    }
    finish(seq, result);
  }
}

void Courier::finish(std::uint64_t seq, const DeliveryResult& result) {
  unsigned attempts = 0;
  std::string id;
  std::string what;
  std::chrono::milliseconds retry{};
  {
    std::lock_guard lock(mu_);
    Entry& e = entry(seq);
    attempts = ++e.attempts;
    --in_flight_;
    if (result.ok) {
      e.state = State::done;
    } else {
      e.state = State::waiting;
      retry = backoff(attempts);
      e.not_before = Clock::now() + retry;
    }
    // Logged only at the first failure, every 10th, and at a success after
    // failures; the text is made only then.
    if (!result.ok ? attempts == 1 || attempts % 10 == 0 : attempts > 1) {
      id = e.line.event.id;
      what = e.line.event.kind + ", " + e.line.event.mapping;
    }
  }
  idle_.notify_all();
  wake();
  if (counts_) (result.ok ? counts_->delivered : counts_->failed).fetch_add(1, std::memory_order_relaxed);
  if (id.empty()) return;
  if (result.ok)
    spdlog::info("event {} ({}) delivered to {} at attempt {}", id, what, sink_.name(), attempts);
  else
    spdlog::warn("event {} ({}) to {}: attempt {} failed: {}; trying again in {} s", id, what, sink_.name(), attempts,
                 result.problem, std::chrono::duration<double>(retry).count());
}

std::chrono::milliseconds Courier::backoff(unsigned attempts) const {
  std::chrono::milliseconds wait = options_.first_backoff;
  for (unsigned i = 1; i < attempts && wait < options_.most_backoff; ++i) wait *= 2;
  return std::min(wait, options_.most_backoff);
}

void Courier::advance_cursor() {
  SpoolPosition at;
  {
    std::lock_guard lock(mu_);
    while (!window_.empty() && window_.front().state == State::done) {
      window_bytes_ -= window_.front().line.event.json.size();
      window_.pop_front();
      ++first_seq_;
    }
    // Where the first event not delivered starts; with none, where reading
    // goes on (past skipped lines and finished segments too).
    at = window_.empty() ? reader_->position() : window_.front().line.start;
  }
  if (at == cursor_) return;
  try {
    write_cursor(spool_, sink_.name(), at);
  } catch (const ExitError& e) {  // tried again at the next change; meanwhile a restart repeats more
    if (!std::exchange(cursor_failing_, true)) spdlog::error("event courier {}: {}", sink_.name(), e.what());
    return;
  }
  cursor_failing_ = false;
  spool_changed_ = true;
  const bool passed_a_segment = at.segment > cursor_.segment;
  cursor_ = at;
  if (passed_a_segment) remove_passed_segments(spool_, sinks_);
}

void Courier::read_spool() {
  std::size_t room = 0;
  std::size_t room_bytes = 0;
  {
    std::lock_guard lock(mu_);
    room = options_.read_ahead - std::min(options_.read_ahead, window_.size());
    room_bytes = options_.read_ahead_bytes - std::min(options_.read_ahead_bytes, window_bytes_);
  }
  if (room == 0 || room_bytes == 0) return;
  std::vector<SpooledLine> lines = reader_->read(room, room_bytes);
  if (lines.empty()) return;
  spool_changed_ = true;
  std::lock_guard lock(mu_);
  for (SpooledLine& line : lines) {
    window_bytes_ += line.event.json.size();
    window_.push_back(Entry{std::move(line)});
  }
}

Clock::time_point Courier::schedule() {
  Clock::time_point next = Clock::time_point::max();
  bool handed_out = false;
  std::uint64_t pending = 0;
  {
    std::lock_guard lock(mu_);
    const Clock::time_point now = Clock::now();
    std::unordered_set<std::string_view> seen;  // mappings whose first unfinished event came already
    for (std::size_t i = 0; i < window_.size(); ++i) {
      Entry& e = window_[i];
      if (e.state == State::done) continue;
      ++pending;
      if (!seen.insert(e.line.event.mapping).second) continue;  // an earlier one of its mapping is not done
      if (e.state == State::in_flight || in_flight_ >= options_.parallel) continue;
      if (e.not_before > now) {
        next = std::min(next, e.not_before);
        continue;
      }
      e.state = State::in_flight;
      ++in_flight_;
      tasks_.push_back(first_seq_ + i);
      handed_out = true;
    }
  }
  if (handed_out) work_.notify_all();
  if (counts_) counts_->pending.store(pending, std::memory_order_relaxed);
  return next;
}

void Courier::wait_for_news(Clock::time_point until) {
  const auto most = inotify_fd_.valid() ? Clock::duration(kReread) : Clock::duration(kPollWithoutInotify);
  until = std::min(until, Clock::now() + most);
  for (;;) {
    const Clock::time_point now = Clock::now();
    // Rounded up: waking a little early would find a backoff not over yet.
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(std::max(until - now, Clock::duration::zero()));
    struct pollfd fds[2] = {{wake_fd_.get(), POLLIN, 0}, {inotify_fd_.get(), POLLIN, 0}};
    if (::poll(fds, inotify_fd_.valid() ? 2 : 1, static_cast<int>(wait.count())) <= 0) return;
    if (fds[0].revents & POLLIN) {
      std::uint64_t count = 0;
      [[maybe_unused]] auto n = ::read(wake_fd_.get(), &count, sizeof count);
      return;
    }
    if (drain_inotify()) {
      gather(std::min(until, Clock::now() + kGather));
      return;
    }
  }
}

void Courier::gather(Clock::time_point until) {
  // Only a stop cuts it short; the notifications queue up unread.
  for (;;) {
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(std::max(until - Clock::now(), Clock::duration::zero()));
    if (wait.count() == 0) return;
    struct pollfd fd {wake_fd_.get(), POLLIN, 0};
    const int n = ::poll(&fd, 1, static_cast<int>(wait.count()));
    if (n == 0) return;
    if (n > 0 && (fd.revents & POLLIN)) {
      std::uint64_t count = 0;
      [[maybe_unused]] auto r = ::read(wake_fd_.get(), &count, sizeof count);
      return;
    }
  }
}

bool Courier::drain_inotify() {
  // Only a segment's change is news: the other couriers' cursors change
  // as often as they deliver.
  alignas(struct inotify_event) char buf[4096];
  bool news = false;
  for (ssize_t got; (got = ::read(inotify_fd_.get(), buf, sizeof buf)) > 0;) {
    for (char* p = buf; p < buf + got;) {
      const auto* ev = reinterpret_cast<const struct inotify_event*>(p);
      if ((ev->mask & IN_Q_OVERFLOW) != 0 || (ev->len > 0 && std::string_view(ev->name).ends_with(kSegmentSuffix)))
        news = true;
      p += sizeof(struct inotify_event) + ev->len;
    }
  }
  return news;
}

Clock::time_point Courier::count_spool() {
  if (!spool_bytes_) return Clock::time_point::max();
  // Other couriers remove segments and the worker adds to them unseen: at
  // every re-read too, the gauge is counted again.
  const Clock::time_point now = Clock::now();
  if (!spool_changed_ && now - spool_counted_ < kReread) return Clock::time_point::max();
  if (now - spool_counted_ < kSpoolCount) return spool_counted_ + kSpoolCount;
  spool_counted_ = now;
  spool_changed_ = false;
  std::uint64_t bytes = 0;
  for (const Segment& s : list_segments(spool_)) bytes += s.size;
  spool_bytes_->store(bytes, std::memory_order_relaxed);
  return Clock::time_point::max();
}

}  // namespace gw::gateway
