// The audit trail: one JSON line per mutating operation and per refusal,
// written to the spdlog logger named "audit" when the gateway made one
// (only gateway/ configures sinks). internal-sftp's own per-operation log is
// lost in a chroot without syslog, so this is where uploads are accounted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fs/inode.hpp"
#include "fs/policy.hpp"

namespace gw::fs {

struct AuditRecord {
  const Inode* node = nullptr;  // the object, or the folder a name was made or removed in
  std::string_view op;
  std::string path;             // in the user's view
  int err = 0;                  // 0: done
  std::uint64_t bytes = 0;      // bytes written, for a closed file
  Caller caller;
  std::string_view reason;      // why, for a refusal
};

bool audit_enabled();
void audit(const AuditRecord& record);

// A refusal is audited once, with its reason, where it is decided; the
// operation's own audit line is then skipped. Tracked per request (thread).
void begin_request_audit() noexcept;
// A rename's destination, for every line of this request (refusals too).
void set_request_destination(std::string path);
void mark_refusal_audited() noexcept;
bool refusal_audited() noexcept;

// The path of `name` inside folder `dir` in the user's view.
std::string child_path(const Inode& dir, std::string_view name);

}  // namespace gw::fs
