#include "fs/metrics.hpp"

#include <algorithm>
#include <cerrno>

namespace gw::fs {
namespace {

struct ResultRow {
  RequestResult result;
  int err;
  std::string_view name;
};

// The errnos a request of the view is answered with in practice (policy
// refusals, a missing name, a full disk or folder limit); each row names
// its RequestResult, checked below, so the names cannot shift.
constexpr std::array<ResultRow, kResults> kResultRows = {{
    {RequestResult::ok, 0, "ok"},
    {RequestResult::enoent, ENOENT, "ENOENT"},
    {RequestResult::eacces, EACCES, "EACCES"},
    {RequestResult::eperm, EPERM, "EPERM"},
    {RequestResult::erofs, EROFS, "EROFS"},
    {RequestResult::eexist, EEXIST, "EEXIST"},
    {RequestResult::enotempty, ENOTEMPTY, "ENOTEMPTY"},
    {RequestResult::enotdir, ENOTDIR, "ENOTDIR"},
    {RequestResult::eisdir, EISDIR, "EISDIR"},
    {RequestResult::exdev, EXDEV, "EXDEV"},
    {RequestResult::ebusy, EBUSY, "EBUSY"},
    {RequestResult::edquot, EDQUOT, "EDQUOT"},
    {RequestResult::enospc, ENOSPC, "ENOSPC"},
    {RequestResult::emfile, EMFILE, "EMFILE"},
    {RequestResult::enametoolong, ENAMETOOLONG, "ENAMETOOLONG"},
    {RequestResult::einval, EINVAL, "EINVAL"},
    {RequestResult::enodata, ENODATA, "ENODATA"},
    {RequestResult::estale, ESTALE, "ESTALE"},
    {RequestResult::ecanceled, ECANCELED, "ECANCELED"},
    {RequestResult::eio, EIO, "EIO"},
    {RequestResult::other, -1, "other"},
}};

constexpr bool result_rows_in_order() {
  for (std::size_t i = 0; i < kResultRows.size(); ++i)
    if (kResultRows[i].result != static_cast<RequestResult>(i)) return false;
  return true;
}
static_assert(result_rows_in_order(), "one row per RequestResult, in the enum's order");

constexpr std::array<std::string_view, kUploadOutcomes> kOutcomeNames = {"published", "discarded", "cancelled",
                                                                         "dropped"};
constexpr std::array<std::string_view, kRequestClasses> kClassNames = {"metadata", "read", "write", "dir"};

}  // namespace

RequestResult request_result(int err) noexcept {
  for (const ResultRow& row : kResultRows)
    if (row.err == err) return row.result;
  return RequestResult::other;
}

std::string_view name(RequestResult result) { return kResultRows[static_cast<std::size_t>(result)].name; }
std::string_view name(UploadOutcome outcome) { return kOutcomeNames[static_cast<std::size_t>(outcome)]; }
std::string_view name(RequestClass cls) { return kClassNames[static_cast<std::size_t>(cls)]; }

std::string_view name(Refusal kind) {
  struct Row {
    Refusal kind;
    std::string_view name;
  };
  using R = Refusal;
  static constexpr std::array<Row, kRefusals> rows = {{
      {R::read_only_mapping, "read_only_mapping"}, {R::view_read_only, "view_read_only"},
      {R::other_user, "other_user"},               {R::quota, "quota"},
      {R::open_files, "open_files"},               {R::special_file, "special_file"},
      {R::not_regular_file, "not_regular_file"},   {R::symlinks_off, "symlinks_off"},
      {R::cross_mapping, "cross_mapping"},         {R::cross_quota_folder, "cross_quota_folder"},
      {R::link_not_owned, "link_not_owned"},       {R::mapped_folder, "mapped_folder"},
      {R::reserved_name, "reserved_name"},         {R::invalid_name, "invalid_name"},
      {R::xattr_namespace, "xattr_namespace"},     {R::chown, "chown"},
  }};
  static_assert([] {
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (rows[i].kind != static_cast<Refusal>(i)) return false;
    return true;
  }(), "one row per Refusal, in the enum's order");
  return rows[static_cast<std::size_t>(kind)].name;
}

void LatencyHistogram::observe(std::chrono::nanoseconds took) noexcept {
  const auto ns = static_cast<std::uint64_t>(std::max<std::chrono::nanoseconds::rep>(took.count(), 0));
  const auto bound = std::lower_bound(kBoundsNs.begin(), kBoundsNs.end(), ns);  // first bound >= ns: "le"
  buckets_[static_cast<std::size_t>(bound - kBoundsNs.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot s;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
  return s;
}

void Metrics::request(RequestKind kind, int err, std::chrono::nanoseconds took) noexcept {
  requests_[static_cast<std::size_t>(kind)][static_cast<std::size_t>(request_result(err))].fetch_add(
      1, std::memory_order_relaxed);
  latency_[static_cast<std::size_t>(info(kind).cls)].observe(took);
}

std::shared_ptr<MappingCounters> Metrics::mapping(const std::string& label, const std::string& user) {
  std::lock_guard lock(mappings_mu_);
  std::weak_ptr<MappingCounters>& slot = mappings_[label];
  if (auto live = slot.lock()) return live;
  auto fresh = std::make_shared<MappingCounters>(label, user);
  slot = fresh;
  return fresh;
}

Metrics::Snapshot Metrics::snapshot() const {
  Snapshot s;
  for (std::size_t k = 0; k < kRequestKinds; ++k)
    for (std::size_t r = 0; r < kResults; ++r) s.requests[k][r] = requests_[k][r].load(std::memory_order_relaxed);
  for (std::size_t c = 0; c < kRequestClasses; ++c) s.latency[c] = latency_[c].snapshot();
  for (std::size_t r = 0; r < kRefusals; ++r) s.refusals[r] = refusals_[r].load(std::memory_order_relaxed);
  for (std::size_t k = 0; k < events_.size(); ++k) s.events[k] = events_[k].load(std::memory_order_relaxed);
  std::lock_guard lock(mappings_mu_);
  for (auto it = mappings_.begin(); it != mappings_.end();) {
    const auto live = it->second.lock();
    if (!live) {  // no root serves this label any more: its series end
      it = mappings_.erase(it);
      continue;
    }
    MappingSnapshot m;
    m.label = live->label;
    m.user = live->user;
    m.bytes_read = live->bytes_read.load(std::memory_order_relaxed);
    m.bytes_written = live->bytes_written.load(std::memory_order_relaxed);
    for (std::size_t o = 0; o < kUploadOutcomes; ++o) m.uploads[o] = live->uploads[o].load(std::memory_order_relaxed);
    s.mappings.push_back(std::move(m));
    ++it;
  }
  std::sort(s.mappings.begin(), s.mappings.end(),
            [](const MappingSnapshot& a, const MappingSnapshot& b) { return a.label < b.label; });
  return s;
}

}  // namespace gw::fs
