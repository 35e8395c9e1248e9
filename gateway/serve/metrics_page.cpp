#include "gateway/serve/metrics_page.hpp"

#include <array>

#include "gateway/prometheus_text.hpp"
#include "gateway/version.hpp"

namespace gw::gateway {
namespace {

using Type = PrometheusText::Type;

std::uint64_t load(const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); }

void process_families(PrometheusText& out, const WorkerCounts& worker, const SupervisorCounts* supervisor) {
  out.family("sftp_gateway_build_info", Type::gauge, "Always 1; the gateway's version in a label.");
  out.sample("sftp_gateway_build_info", {{"version", version()}}, std::uint64_t{1});
  out.family("sftp_gateway_worker_start_time_seconds", Type::gauge,
             "When the FUSE worker serving now started (Unix time): its request counters count from there.");
  out.sample("sftp_gateway_worker_start_time_seconds", {}, worker.started);
  if (supervisor) {
    out.family("sftp_gateway_worker_restarts_total", Type::counter,
               "FUSE workers replaced by the supervisor after they died or hung, since serve started.");
    out.sample("sftp_gateway_worker_restarts_total", {}, load(supervisor->worker_restarts));
    out.family("sftp_gateway_watchdog_verdicts_total", Type::counter,
               "Watchdog verdicts since serve started: hung (the view did not answer and served nothing: its "
               "connection aborted, the worker replaced), slow (every thread busy but requests still served: left alone).");
    out.sample("sftp_gateway_watchdog_verdicts_total", {{"verdict", "hung"}}, load(supervisor->watchdog_hung));
    out.sample("sftp_gateway_watchdog_verdicts_total", {{"verdict", "slow"}}, load(supervisor->watchdog_slow));
  }
  out.family("sftp_gateway_reloads_total", Type::counter,
             "Reloads of users, mappings and keys by this worker, by result (refused: nothing changed).");
  out.sample("sftp_gateway_reloads_total", {{"result", "ok"}}, load(worker.reloads_ok));
  out.sample("sftp_gateway_reloads_total", {{"result", "refused"}}, load(worker.reloads_refused));
  out.family("sftp_gateway_reload_last_success", Type::gauge,
             "1 when the last reload succeeded (or none was made), 0 when it was refused.");
  out.sample("sftp_gateway_reload_last_success", {},
             std::uint64_t{worker.last_reload_ok.load(std::memory_order_relaxed) ? 1u : 0u});
}

void request_families(PrometheusText& out, const fs::Metrics::Snapshot& m) {
  out.family("sftp_gateway_requests_total", Type::counter,
             "FUSE requests answered, by request and result (ok or the errno); forget, release and releasedir "
             "are not counted.");
  for (std::size_t k = 0; k < fs::kRequestKinds; ++k) {
    const std::string_view request = fs::info(static_cast<fs::RequestKind>(k)).name;
    for (std::size_t r = 0; r < fs::kResults; ++r) {
      // ok always, so every request's series exists from the start; an
      // error's from its first occurrence.
      if (r != 0 && m.requests[k][r] == 0) continue;
      out.sample("sftp_gateway_requests_total",
                 {{"request", request}, {"result", fs::name(static_cast<fs::RequestResult>(r))}}, m.requests[k][r]);
    }
  }
  out.family("sftp_gateway_request_duration_seconds", Type::histogram,
             "Time from a FUSE request's arrival in the worker to its answer, by class: metadata, read "
             "(file data), write (file data, flush, fsync), dir (listings).");
  std::array<double, fs::LatencyHistogram::kBoundsNs.size()> bounds{};
  for (std::size_t i = 0; i < bounds.size(); ++i) bounds[i] = static_cast<double>(fs::LatencyHistogram::kBoundsNs[i]) / 1e9;
  for (std::size_t c = 0; c < fs::kRequestClasses; ++c) {
    const auto& h = m.latency[c];
    out.histogram("sftp_gateway_request_duration_seconds", {{"class", fs::name(static_cast<fs::RequestClass>(c))}},
                  bounds, h.cumulative, static_cast<double>(h.sum_ns) / 1e9);
  }
  out.family("sftp_gateway_refusals_total", Type::counter,
             "Operations the view refused (each is also a log line and an audit line), by reason.");
  for (std::size_t r = 0; r < fs::kRefusals; ++r)
    out.sample("sftp_gateway_refusals_total", {{"reason", fs::name(static_cast<fs::Refusal>(r))}}, m.refusals[r]);
}

// Only with an event sink (there is a spool): what the view made, beside
// what the spool then holds (event_families below).
void recorded_event_families(PrometheusText& out, const fs::Metrics::Snapshot& m) {
  out.family("sftp_gateway_events_recorded_total", Type::counter,
             "Events the view handed to the event spool (uploads, removals, renames, new folders, refusals "
             "inside mappings), by kind; only kinds a mapping reports (events=, --event-kinds). Recorded "
             "but not spooled: lost to a failed spool write (each logged).");
  for (int k = 0; k < fs::kEventKinds; ++k)
    out.sample("sftp_gateway_events_recorded_total", {{"kind", fs::event_kind_name(static_cast<fs::EventKind>(k))}},
               m.events[static_cast<std::size_t>(k)]);
}

void mapping_families(PrometheusText& out, const fs::Metrics::Snapshot& m) {
  out.family("sftp_gateway_read_bytes_total", Type::counter,
             "Bytes of files read through the view (what the kernel's page cache served again is not), by mapping.");
  for (const auto& s : m.mappings)
    out.sample("sftp_gateway_read_bytes_total", {{"user", s.user}, {"mapping", s.label}}, s.bytes_read);
  out.family("sftp_gateway_written_bytes_total", Type::counter, "Bytes written to files through the view, by mapping.");
  for (const auto& s : m.mappings)
    out.sample("sftp_gateway_written_bytes_total", {{"user", s.user}, {"mapping", s.label}}, s.bytes_written);
  out.family("sftp_gateway_uploads_total", Type::counter,
             "Atomic uploads ended, by mapping and outcome: published (took its name), discarded (a write failed, "
             "the client died or the rename failed), cancelled (an overwrite whose file went meanwhile), dropped "
             "(renamed or removed before its close). Mappings with noatomic have none.");
  for (const auto& s : m.mappings)
    for (std::size_t o = 0; o < fs::kUploadOutcomes; ++o)
      out.sample("sftp_gateway_uploads_total",
                 {{"user", s.user}, {"mapping", s.label}, {"outcome", fs::name(static_cast<fs::UploadOutcome>(o))}},
                 s.uploads[o]);
}

void state_families(PrometheusText& out, fs::View& view) {
  out.family("sftp_gateway_users", Type::gauge, "sftp users served.");
  out.sample("sftp_gateway_users", {}, std::uint64_t{view.user_count()});
  out.family("sftp_gateway_mappings", Type::gauge, "Mapped folders served, homes included.");
  out.sample("sftp_gateway_mappings", {}, std::uint64_t{view.mappings()});
  out.family("sftp_gateway_uploads_in_progress", Type::gauge, "Atomic uploads open now (written to a temporary).");
  out.sample("sftp_gateway_uploads_in_progress", {}, std::uint64_t{view.uploads().in_progress()});

  const fs::HandleQuota& handles = view.handles();
  out.family("sftp_gateway_open_handles", Type::gauge, "Files and folders each user holds open through the view.");
  view.each_user([&](const fs::UserTree& tree) {
    out.sample("sftp_gateway_open_handles", {{"user", tree.plan.user.name}}, std::uint64_t{handles.held(tree.plan.user.uid)});
  });
  out.family("sftp_gateway_open_handles_per_user_limit", Type::gauge,
             "Most files and folders one user may hold open (EMFILE beyond).");
  out.sample("sftp_gateway_open_handles_per_user_limit", {}, std::uint64_t{handles.open_files_per_user()});
  out.family("sftp_gateway_open_handles_limit", Type::gauge,
             "Most files and folders all users together may hold open (EMFILE beyond).");
  out.sample("sftp_gateway_open_handles_limit", {}, std::uint64_t{handles.open_files_total()});
}

void quota_families(PrometheusText& out, const std::vector<fs::FolderQuota::Snapshot>& folders) {
  const auto each = [&](const char* name, Type type, const char* help, auto value) {
    out.family(name, type, help);
    for (const auto& f : folders)
      if (const auto v = value(f)) out.sample(name, {{"folder", f.name}}, *v);
  };
  using Snap = fs::FolderQuota::Snapshot;
  using V = std::optional<std::uint64_t>;
  each("sftp_gateway_quota_used_bytes", Type::gauge, "Bytes a limited folder holds (st_size summed).",
       [](const Snap& f) -> V { return f.used.bytes; });
  each("sftp_gateway_quota_limit_bytes", Type::gauge, "A limited folder's quota= in bytes.",
       [](const Snap& f) -> V { return f.limit.bytes; });
  each("sftp_gateway_quota_used_files", Type::gauge, "Entries (files, folders, symlinks) a limited folder holds.",
       [](const Snap& f) -> V { return f.used.files; });
  each("sftp_gateway_quota_limit_files", Type::gauge, "A limited folder's files= limit.",
       [](const Snap& f) -> V { return f.limit.files; });
  each("sftp_gateway_quota_counted", Type::gauge,
       "1 once a limited folder was counted; before that its usage is unknown and nothing may grow in it.",
       [](const Snap& f) -> V { return f.counted ? 1 : 0; });
}

// The worker spools, the supervisor's couriers deliver: the first two
// families are counted here, the rest in the shared page.
void event_families(PrometheusText& out, const SpoolWriter& spool, const SupervisorCounts* supervisor) {
  out.family("sftp_gateway_events_spooled_total", Type::counter,
             "Events written to the spool for delivery by this worker, by kind.");
  for (int k = 0; k < fs::kEventKinds; ++k) {
    const auto kind = static_cast<fs::EventKind>(k);
    out.sample("sftp_gateway_events_spooled_total", {{"kind", fs::event_kind_name(kind)}}, spool.spooled(kind));
  }
  out.family("sftp_gateway_events_dropped_total", Type::counter,
             "Events given up by this worker before every sink had them: the spool was over --event-spool-limit.");
  out.sample("sftp_gateway_events_dropped_total", {}, spool.dropped());
  if (!supervisor) return;
  out.family("sftp_gateway_event_spool_bytes", Type::gauge, "Bytes the event spool holds.");
  out.sample("sftp_gateway_event_spool_bytes", {}, load(supervisor->event_spool_bytes));
  out.family("sftp_gateway_event_deliveries_total", Type::counter,
             "Delivery attempts since serve started, by sink and result (a failed one is tried again).");
  for (const DeliveryCounts& slot : supervisor->event_sinks) {
    if (slot.sink[0] == '\0') continue;
    out.sample("sftp_gateway_event_deliveries_total", {{"sink", slot.sink}, {"result", "ok"}}, load(slot.delivered));
    out.sample("sftp_gateway_event_deliveries_total", {{"sink", slot.sink}, {"result", "failed"}}, load(slot.failed));
  }
  out.family("sftp_gateway_event_pending", Type::gauge,
             "Events a sink has not had yet, of those its courier has read from the spool (4096 at most).");
  for (const DeliveryCounts& slot : supervisor->event_sinks)
    if (slot.sink[0] != '\0') out.sample("sftp_gateway_event_pending", {{"sink", slot.sink}}, load(slot.pending));
}

}  // namespace

std::string render_metrics(fs::View& view, const WorkerCounts& worker, const SupervisorCounts* supervisor,
                           const SpoolWriter* spool) {
  PrometheusText out;
  process_families(out, worker, supervisor);
  const fs::Metrics::Snapshot m = view.metrics().snapshot();
  request_families(out, m);
  mapping_families(out, m);
  state_families(out, view);
  std::vector<fs::FolderQuota::Snapshot> folders = view.quotas().report();
  std::erase_if(folders, [](const fs::FolderQuota::Snapshot& f) { return !f.limit.any(); });
  if (!folders.empty()) quota_families(out, folders);
  if (spool) {
    recorded_event_families(out, m);
    event_families(out, *spool, supervisor);
  }
  return out.text();
}

}  // namespace gw::gateway
