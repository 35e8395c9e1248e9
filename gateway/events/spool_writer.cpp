#include "gateway/events/spool_writer.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "fs/audit.hpp"
#include "gateway/events/spool_dir.hpp"
#include "gateway/exit_codes.hpp"

namespace gw::gateway {
namespace {

std::string random_prefix() {
  std::uint64_t random = 0;
  // At start, off the request path: waiting for the kernel's pool is fine.
  if (::getrandom(&random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) {
    const int e = errno;
    throw ExitError(exit_code::failure, std::string("event spool: getrandom failed: ") + std::strerror(e));
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(random));
  return hex;
}

// One higher than every segment and every cursor: a cursor may point past
// segments someone removed, and the couriers must find the new one ahead.
std::uint64_t next_segment(int spool) {
  std::uint64_t next = 1;
  for (const Segment& s : list_segments(spool)) next = std::max(next, s.number + 1);
  for (const SpoolPosition& c : read_all_cursors(spool)) next = std::max(next, c.segment + 1);
  return next;
}

// The lines (events) of the segment from byte `from` on.
std::uint64_t count_lines(int fd, std::uint64_t from) {
  std::uint64_t lines = 0;
  char buf[65536];
  for (off_t at = static_cast<off_t>(from);;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return lines;
    lines += static_cast<std::uint64_t>(std::count(buf, buf + n, '\n'));
    at += n;
  }
}

}  // namespace

SpoolWriter::SpoolWriter(const std::string& state_dir, SpoolLimits limits)
    : limits_(limits), spool_(open_spool(state_dir)), id_prefix_(random_prefix()) {
  {
    std::lock_guard lock(mu_);
    if (const int e = open_segment_locked(next_segment(spool_.get())))
      throw ExitError(exit_code::failure, "event spool: cannot start a segment: " + std::string(std::strerror(e)));
  }
  post_trim();  // the previous workers' segments may be over the limit
}

int SpoolWriter::open_segment_locked(std::uint64_t number) {
  // O_EXCL: a segment is only ever appended to by the writer that made it.
  for (int tries = 0;; ++tries, ++number) {
    fs::UniqueFd fd(::openat(spool_.get(), segment_name(number).c_str(),
                             O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      if (errno == EEXIST && tries < 100) continue;
      return errno;
    }
    segment_ = std::move(fd);
    segment_size_ = 0;
    segment_number_.store(number, std::memory_order_relaxed);
    return 0;
  }
}

void SpoolWriter::record(const fs::Event& event) noexcept {
  Note note = Note::none;
  int err = 0;
  std::uint64_t lost_run = 0;
  bool rotated = false;
  try {
    std::lock_guard lock(mu_);
    std::string line = fs::event_json(event, id_prefix_ + "-" + std::to_string(++sequence_), fs::now_utc());
    line += '\n';
    if (segment_size_ >= limits_.segment_bytes) {
      // A segment that cannot be started leaves the current one growing.
      rotated = open_segment_locked(segment_number_.load(std::memory_order_relaxed) + 1) == 0;
    }
    const ssize_t n = ::write(segment_.get(), line.data(), line.size());
    if (n == static_cast<ssize_t>(line.size())) {
      segment_size_ += line.size();
      spooled_[static_cast<std::size_t>(event.kind)].fetch_add(1, std::memory_order_relaxed);
      if (failures_ != 0) note = Note::recovered;
      lost_run = std::exchange(failures_, 0);
    } else {
      err = n < 0 ? errno : ENOSPC;
      // A part of the line may be in the segment: cut it off (this writer
      // alone appends to it), so the next line cannot be glued to it. If
      // that fails too, the next event starts a new segment, and the torn
      // line is the last of one that is not the newest, which the couriers
      // skip.
      if (n > 0 && ::ftruncate(segment_.get(), static_cast<off_t>(segment_size_)) != 0)
        segment_size_ = limits_.segment_bytes;
      lost_.fetch_add(1, std::memory_order_relaxed);
      if (failures_++ == 0) note = Note::first_failure;
    }
  } catch (...) {  // the line could not be built (no memory): the event is lost
    lost_.fetch_add(1, std::memory_order_relaxed);
    err = ENOMEM;
    note = Note::first_failure;
  }
  // Logged after the lock: a slow log must not hold up the other requests.
  try {
    if (note == Note::first_failure)
      spdlog::error("event spool: cannot write segment {}: {}; events are lost until it can",
                    segment_number_.load(std::memory_order_relaxed), std::strerror(err));
    else if (note == Note::recovered)
      spdlog::warn("event spool: writing again; {} event(s) were lost", lost_run);
    if (rotated) post_trim();
  } catch (...) {
  }
}

void SpoolWriter::post_trim() {
  trimmer_.post([this](const std::atomic<bool>&) { trim(); });
}

void SpoolWriter::trim() {
  std::lock_guard lock(trim_mu_);
  const std::vector<Segment> segments = list_segments(spool_.get());
  std::uint64_t total = 0;
  for (const Segment& s : segments) total += s.size;
  if (total <= limits_.spool_bytes) return;
  // Without a cursor no sink is known to have anything: as if before all.
  const std::vector<SpoolPosition> cursors = read_all_cursors(spool_.get());
  const SpoolPosition slowest = cursors.empty() ? SpoolPosition{} : *std::min_element(cursors.begin(), cursors.end());
  const std::uint64_t current = segment_number_.load(std::memory_order_relaxed);
  for (const Segment& s : segments) {
    if (total <= limits_.spool_bytes || s.number >= current) break;
    total -= s.size;
    const std::string name = segment_name(s.number);
    // Opened before it is removed: its lines are counted from the fd.
    const fs::UniqueFd fd(::openat(spool_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) continue;  // a courier removed it meanwhile: delivered everywhere
    if (::unlinkat(spool_.get(), name.c_str(), 0) != 0) {
      if (const int e = errno; e != ENOENT) spdlog::warn("event spool: cannot remove {}: {}", name, std::strerror(e));
      continue;
    }
    // What the slowest sink had not passed: every line of a segment it has
    // not reached, those after its cursor in the one it is in.
    std::uint64_t undelivered = 0;
    if (slowest.segment < s.number) undelivered = count_lines(fd.get(), 0);
    else if (slowest.segment == s.number) undelivered = count_lines(fd.get(), slowest.offset);
    if (undelivered == 0) continue;
    dropped_.fetch_add(undelivered, std::memory_order_relaxed);
    spdlog::warn("event spool over its limit: dropped {} event(s) of segment {}", undelivered, name);
  }
}

}  // namespace gw::gateway
