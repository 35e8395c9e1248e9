#include "fs/audit.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "fs/json.hpp"

namespace gw::fs {
namespace {

std::string now_utc() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

namespace {
thread_local bool refusal_logged = false;
thread_local std::string request_destination;
}  // namespace

void begin_request_audit() noexcept {
  refusal_logged = false;
  request_destination.clear();
}
void set_request_destination(std::string path) { request_destination = std::move(path); }
void mark_refusal_audited() noexcept { refusal_logged = true; }
bool refusal_audited() noexcept { return refusal_logged; }

bool audit_enabled() { return spdlog::get("audit") != nullptr; }

std::string child_path(const Inode& dir, std::string_view name) {
  std::string p = dir.path();
  if (p != "/") p += '/';
  p += name;
  return p;
}

void audit(const AuditRecord& r) {
  const auto logger = spdlog::get("audit");
  if (!logger) return;
  std::string line = "{\"time\":";
  append_json_quoted(line, now_utc());
  const bool backed = r.node && r.node->is_backed();
  line += ",\"user\":";
  append_json_quoted(line, backed ? std::string_view(r.node->mapping->user.name) : std::string_view("-"));
  line += ",\"uid\":" + std::to_string(r.caller.uid) + ",\"pid\":" + std::to_string(r.caller.pid) + ",\"op\":";
  append_json_quoted(line, r.op);
  line += ",\"path\":";
  append_json_quoted(line, r.path);
  if (const std::string& to = request_destination; !to.empty()) {
    line += ",\"to\":";
    append_json_quoted(line, to);
  }
  line += ",\"mapping\":";
  append_json_quoted(line, backed ? std::string_view(r.node->mapping->label) : std::string_view("view"));
  if (r.bytes || r.op == "write") line += ",\"bytes\":" + std::to_string(r.bytes);
  line += ",\"result\":";
  append_json_quoted(line, r.err ? std::string_view(strerrorname_np(r.err) ? strerrorname_np(r.err) : "error") : "ok");
  if (!r.reason.empty()) {
    line += ",\"reason\":";
    append_json_quoted(line, r.reason);
  }
  line += '}';
  logger->info(line);
}

}  // namespace gw::fs
