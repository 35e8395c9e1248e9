// What the view counts for an operator's monitoring (Prometheus), and the
// design of the gateway's metrics as a whole.
//
// Where counts live. Everything about requests is counted here, in the
// worker, where requests are answered, with relaxed atomics in fixed arrays:
//   - requests by kind (fs/request_kind.hpp: the FUSE request, not the
//     policy's Op) and result (ok, or the errno's name from a fixed list,
//     anything else "other"), counted by the reply guard (fs/request.hpp);
//     forget, release and releasedir are not: they cannot fail, and release
//     publishes nothing (publishing happens at the flush);
//   - one latency histogram per request class (metadata, read, write, dir),
//     from the guard's start to its reply, buckets fixed below;
//   - refusals by kind (fs/refusal_reason.hpp: the policy's free-text reasons
//     mapped to a fixed set at compile time), counted by Policy::refuse;
//   - per mapping (MappingCounters): bytes read and written through the
//     view and uploads ended by outcome. A mapping's counters are reached
//     from its MappingRoot, which every inode points to: no lookup by name
//     on the request path. The registry hands out one block per mapping
//     label ("ryan:web") and keeps it across reloads while any root uses it,
//     so a reload that rebuilds a mapping does not reset its counters;
//   - events handed to the gateway's EventLog by kind (fs/view_events.hpp);
//     what the spool and its sinks do with them is counted in gateway/.
// What is a state rather than an event (open handles per user and the caps,
// quota usage and limits per folder, uploads in progress, users and
// mappings served) is read when the metrics are rendered, from the objects
// that own it (HandleQuota, Quotas, Uploads, the served layout), never
// copied on the request path. Rendering is gateway/'s (serve/metrics_*),
// with gateway/prometheus_text.
//
// Labels are bounded: request kinds, results, classes, refusal kinds and
// upload outcomes are fixed sets; users, mappings and limited folders come
// from the configuration. No path or client-given name is ever a label.
//
// Cost on the request path: two reads of the monotonic clock (vDSO) and
// three relaxed fetch_adds (request x result, histogram bucket, latency
// sum) per request, one more per read or write for the mapping's bytes and
// one fstat per read (bytes served are what the file holds, not what the
// kernel asked for). No lock, no allocation. Measured on the SFTP
// small-file benchmark: see the README's metrics section.
//
// Process boundaries. `gateway serve` is a supervisor and a FUSE worker it
// starts (exec) and restarts. Request counts live in the worker; worker
// restarts and watchdog verdicts are known only to the supervisor. The
// worker exposes /metrics and writes --metrics-file; the supervisor adds its
// few counts to the page of shared memory it already gives every worker
// (gateway/serve/progress_counter.hpp), and the worker reads them when it
// renders. The other way round (the supervisor serving, the worker shipping
// its counts to it) would keep /metrics answering while a worker hangs, but
// every per-user, per-mapping and per-folder figure lives in the worker, and
// so does the configuration after reloads: the few integers travel, not the
// many. The supervisor binds the --metrics-listen socket once, before the
// first worker, and hands it to each worker: a bad or taken address stops
// `serve` at start, and a scrape that arrives during a restart waits in the
// socket's backlog for the next worker instead of being refused. Request
// counters start from zero with each worker (Prometheus's rate() and
// increase() take that as a counter reset); sftp_gateway_worker_start_time_seconds
// says when, and the supervisor's counts span the whole service. While a
// worker hangs, scrapes time out (Prometheus' `up` is 0) until the
// watchdog replaces it, seconds later.
//
// Still to come with upload events (issue 14): event deliveries (ok,
// retried, dropped) and the spool's size.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fs/refusal_reason.hpp"
#include "fs/request_kind.hpp"
#include "mapping/event_kinds.hpp"

namespace gw::fs {

// How a request ended: ok, or the errno it was answered with (the names
// the audit trail uses). Errnos outside the list are "other".
enum class RequestResult : std::uint8_t {
  ok, enoent, eacces, eperm, erofs, eexist, enotempty, enotdir, eisdir, exdev, ebusy, edquot,
  enospc, emfile, enametoolong, einval, enodata, estale, ecanceled, eio, other,
};
inline constexpr std::size_t kResults = static_cast<std::size_t>(RequestResult::other) + 1;
RequestResult request_result(int err) noexcept;
std::string_view name(RequestResult result);  // "ok", "ENOENT", ..., "other"

// How an atomic upload ended (fs/upload_state.hpp's ended states).
enum class UploadOutcome : std::uint8_t {
  published,  // took its final name
  discarded,  // a write failed, the client died, or the rename failed: the temporary went
  cancelled,  // an overwrite whose file was removed or replaced meanwhile
  dropped,    // the client renamed or removed it before the close: nothing to publish
};
inline constexpr std::size_t kUploadOutcomes = 4;
std::string_view name(UploadOutcome outcome);

// One mapping's counters, shared by every MappingRoot with its label.
struct MappingCounters {
  MappingCounters(std::string label_, std::string user_) : label(std::move(label_)), user(std::move(user_)) {}
  const std::string label;  // "ryan:web", "ryan:~" (the home)
  const std::string user;
  std::atomic<std::uint64_t> bytes_read{0};
  std::atomic<std::uint64_t> bytes_written{0};
  std::array<std::atomic<std::uint64_t>, kUploadOutcomes> uploads{};

  void count_read(std::uint64_t n) noexcept { bytes_read.fetch_add(n, std::memory_order_relaxed); }
  void count_written(std::uint64_t n) noexcept { bytes_written.fetch_add(n, std::memory_order_relaxed); }
  void count_upload(UploadOutcome o) noexcept {
    uploads[static_cast<std::size_t>(o)].fetch_add(1, std::memory_order_relaxed);
  }
};

// Request latency in fixed buckets (upper bounds, seconds: 100 us to 5 s;
// an answer from the kernel's view of a cached attribute takes ~10 us, a
// write to a slow disk seconds). Buckets are counted one by one and made
// cumulative only when read, so one observation is one fetch_add.
class LatencyHistogram {
 public:
  static constexpr std::array<std::uint64_t, 15> kBoundsNs = {
      100'000,     250'000,     500'000,       1'000'000,     2'500'000,
      5'000'000,   10'000'000,  25'000'000,    50'000'000,    100'000'000,
      250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000};
  static constexpr std::size_t kBuckets = kBoundsNs.size() + 1;  // the last: +Inf

  void observe(std::chrono::nanoseconds took) noexcept;

  struct Snapshot {
    std::array<std::uint64_t, kBuckets> cumulative{};  // observations <= each bound; the last is the count
    std::uint64_t sum_ns = 0;
  };
  Snapshot snapshot() const;

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

class Metrics {
 public:
  // A request answered with `err` (0: ok) after `took`.
  void request(RequestKind kind, int err, std::chrono::nanoseconds took) noexcept;
  void refusal(Refusal kind) noexcept { refusals_[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed); }
  void event_recorded(mapping::EventKind kind) noexcept {
    events_[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
  }

  // The counters of the mapping labelled `label` (a build asks, once per
  // mapping root it makes): the same block for as long as a root holds it.
  std::shared_ptr<MappingCounters> mapping(const std::string& label, const std::string& user);

  struct MappingSnapshot {
    std::string label, user;
    std::uint64_t bytes_read = 0, bytes_written = 0;
    std::array<std::uint64_t, kUploadOutcomes> uploads{};
  };
  struct Snapshot {
    std::array<std::array<std::uint64_t, kResults>, kRequestKinds> requests{};
    std::array<LatencyHistogram::Snapshot, kRequestClasses> latency{};
    std::array<std::uint64_t, kRefusals> refusals{};
    std::array<std::uint64_t, mapping::kEventKinds> events{};  // recorded, by kind
    std::vector<MappingSnapshot> mappings;  // by label; only mappings some root still serves
  };
  // Each counter read once (relaxed): counters of one snapshot may be a
  // request apart, as in any scrape of a live process.
  Snapshot snapshot() const;

 private:
  std::array<std::array<std::atomic<std::uint64_t>, kResults>, kRequestKinds> requests_{};
  std::array<LatencyHistogram, kRequestClasses> latency_{};
  std::array<std::atomic<std::uint64_t>, kRefusals> refusals_{};
  std::array<std::atomic<std::uint64_t>, mapping::kEventKinds> events_{};
  mutable std::mutex mappings_mu_;  // guards mappings_; taken by builds and renders, never by requests
  // Hashed: a build of 100,000 users asks it 400,000 times, from two
  // threads; a sorted map's string compares under this lock were 8% of
  // that start. snapshot() sorts what it returns.
  mutable std::unordered_map<std::string, std::weak_ptr<MappingCounters>> mappings_;
};

}  // namespace gw::fs
