// The worker's /metrics page: every family the gateway exposes, named
// sftp_gateway_*, rendered from the view's counters (fs/metrics.hpp, where
// the design is), the states the view owns (handles, quotas, uploads in
// progress, what is served), the worker's reloads and the supervisor's
// counts. Rendered on the metrics thread, never on a request's.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "fs/view.hpp"
#include "gateway/events/spool_writer.hpp"
#include "gateway/serve/progress_counter.hpp"

namespace gw::gateway {

// What the worker counts itself.
struct WorkerCounts {
  double started = 0;  // Unix time, seconds
  std::atomic<std::uint64_t> reloads_ok{0};
  std::atomic<std::uint64_t> reloads_refused{0};
  std::atomic<bool> last_reload_ok{true};  // no reload yet: the start's configuration serves

  void reloaded(bool ok) noexcept {
    (ok ? reloads_ok : reloads_refused).fetch_add(1, std::memory_order_relaxed);
    last_reload_ok.store(ok, std::memory_order_relaxed);
  }
};

// The page, in the text exposition format 0.0.4. `supervisor`: null when
// the worker runs alone (the supervisor's families are then left out).
// `spool`: the worker's event spool, null without event sinks (the event
// families are then left out).
std::string render_metrics(fs::View& view, const WorkerCounts& worker, const SupervisorCounts* supervisor,
                           const SpoolWriter* spool = nullptr);

}  // namespace gw::gateway
