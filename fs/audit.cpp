#include "fs/audit.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "fs/errno_name.hpp"
#include "fs/json.hpp"

namespace gw::fs {
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

namespace {

std::string_view result_of(int err) { return err == 0 ? "ok" : errno_name(err); }

}  // namespace

std::string child_path(const Inode& dir, std::string_view name) {
  std::string p = dir.path();
  if (p != "/") p += '/';
  p += name;
  return p;
}

std::string audit_line(const AuditRecord& r, std::string_view time) {
  const bool backed = r.node && r.node->is_backed();
  std::string line = "{\"time\":";
  append_json_quoted(line, time);
  line += ",\"user\":";
  append_json_quoted(line, backed ? std::string_view(r.node->mapping->user.name) : std::string_view("-"));
  line += ",\"uid\":" + std::to_string(r.caller.uid) + ",\"pid\":" + std::to_string(r.caller.pid) + ",\"op\":";
  append_json_quoted(line, info(r.op).name);
  line += ",\"path\":";
  append_json_quoted(line, r.path);
  if (!r.to.empty()) {
    line += ",\"to\":";
    append_json_quoted(line, r.to);
  }
  line += ",\"mapping\":";
  append_json_quoted(line, backed ? std::string_view(r.node->mapping->label) : std::string_view("view"));
  if (r.bytes || r.op == Op::write) line += ",\"bytes\":" + std::to_string(r.bytes);
  line += ",\"result\":";
  append_json_quoted(line, result_of(r.err));
  if (!r.reason.empty()) {
    line += ",\"reason\":";
    append_json_quoted(line, r.reason);
  }
  line += '}';
  return line;
}

const AuditTrail& AuditTrail::off() {
  static const AuditTrail none;
  return none;
}

void AuditTrail::write(const AuditRecord& record) const {
  if (logger_) logger_->info(audit_line(record, now_utc()));
}

}  // namespace gw::fs
