#include "gateway/serve/quota_status.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "gateway/atomic_file.hpp"
#include "gateway/json_writer.hpp"

namespace gw::gateway {
namespace {

std::string utc(std::time_t t) {
  std::tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void limit_field(JsonWriter& w, std::string_view name, const std::optional<std::uint64_t>& limit) {
  w.key(name);
  if (limit) w.number(static_cast<std::int64_t>(*limit));
  else w.null();
}

}  // namespace

std::string quota_status_path(const std::string& state_dir) { return state_dir + "/quota.json"; }

std::string render_quota_status(const std::vector<fs::FolderQuota::Snapshot>& folders) {
  std::ostringstream out;
  JsonWriter w(out);
  w.begin_object().key("folders").begin_array();
  for (const auto& f : folders) {
    if (!f.limit.any()) continue;
    w.begin_object().field("folder", f.name).key("mappings").begin_array();
    for (const auto& m : f.mappings) w.string(m);
    w.end_array();
    w.field("bytes", static_cast<std::int64_t>(f.used.bytes));
    limit_field(w, "bytes_limit", f.limit.bytes);
    w.field("files", static_cast<std::int64_t>(f.used.files));
    limit_field(w, "files_limit", f.limit.files);
    w.field("counted", f.counted);
    w.key("counted_at");
    if (f.counted) w.string(utc(f.counted_at));
    else w.null();
    w.end_object();
  }
  w.end_array().end_object();
  w.finish();
  return out.str();
}

QuotaStatus::QuotaStatus(const fs::Quotas& quotas, std::string state_dir)
    : quotas_(quotas), path_(quota_status_path(state_dir)), thread_([this] { run(); }) {}

QuotaStatus::~QuotaStatus() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::remove(path_.c_str());
}

void QuotaStatus::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    write_if_changed();
    lock.lock();
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
  }
}

void QuotaStatus::write_if_changed() {
  try {
    if (!quotas_.any() && written_.empty()) return;  // nothing limited, nothing written
    std::string content = render_quota_status(quotas_.report());
    if (content == written_) return;
    replace_file(path_, content, 0644);
    written_ = std::move(content);
  } catch (const std::exception& e) {
    spdlog::warn("quota status: {}", e.what());
  }
}

}  // namespace gw::gateway
