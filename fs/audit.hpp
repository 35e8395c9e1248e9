// The audit trail: one JSON line per mutating operation and per refusal,
// written through the logger the gateway hands the View (only gateway/
// configures sinks; none: no trail). internal-sftp's own per-operation log
// is lost in a chroot without syslog, so this is where uploads are accounted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fs/inode.hpp"
#include "fs/op.hpp"

namespace spdlog {
class logger;
}

namespace gw::fs {

// Everything one line says; nothing is looked up when it is written.
struct AuditRecord {
  const Inode* node = nullptr;  // the object, or the folder a name was made or removed in
  Op op = Op::lookup;
  std::string path;             // in the user's view
  std::string to;               // a rename's destination, in the user's view
  int err = 0;                  // 0: done
  std::uint64_t bytes = 0;      // bytes written, for a closed file
  Caller caller;
  std::string_view reason;      // why, for a refusal
};

// The line for `record` at `time` (ISO 8601, UTC): one JSON object, keys in a
// fixed order, no newline.
std::string audit_line(const AuditRecord& record, std::string_view time);

class AuditTrail {
 public:
  AuditTrail() = default;  // off: nothing is written
  static const AuditTrail& off();
  // The logger writes each line as it is (pattern "%v") and flushes it.
  explicit AuditTrail(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

  // Callers test this before building a record, which costs path strings.
  bool enabled() const { return logger_ != nullptr; }
  void write(const AuditRecord& record) const;

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

// Now as ISO 8601 UTC with milliseconds, "2026-12-05T13:00:00.123Z": the
// time of an audit line and of an event.
std::string now_utc();

// The path of `name` inside folder `dir` in the user's view.
std::string child_path(const Inode& dir, std::string_view name);

}  // namespace gw::fs
