// Which operations write is one table (op.cpp); it is checked in one
// function that knows read-only mappings, synthetic (root-owned) nodes and
// whose tree a node belongs to. Every refusal is logged and audited with its
// reason, once, where it is decided, and is an event of its mapping.
#pragma once

#include <string_view>

#include "fs/audit.hpp"
#include "fs/inode.hpp"
#include "fs/metrics.hpp"
#include "fs/op.hpp"
#include "fs/refusal_reason.hpp"
#include "fs/view_events.hpp"

namespace gw::fs {

// What a step of an operation came to: 0 (go on), an errno (failed), or a
// refusal: an errno whose log and audit lines, with the reason, are written
// already. The operation passes it on to its own audit line (audit_child,
// audit_node in request.hpp), which a refusal does not repeat.
struct Outcome {
  int err = 0;
  bool refused = false;

  Outcome(int e = 0) noexcept : err(e) {}  // implicit: every errno is an outcome
  static Outcome refusal(int e) noexcept {
    Outcome o(e);
    o.refused = true;
    return o;
  }
  explicit operator bool() const noexcept { return err != 0; }
};

class Policy {
 public:
  // Refusals are audited to `trail`, counted in `metrics` and reported to
  // `events` (the View's); by default only logged.
  explicit Policy(const AuditTrail& trail = AuditTrail::off(), Metrics* metrics = nullptr,
                  const ViewEvents* events = nullptr)
      : trail_(trail), metrics_(metrics), events_(events) {}

  // Allowed (0) when `caller` may do `op` on `node`, else a refusal.
  // `name`: the entry of folder `node` the op is about (create, unlink, ...),
  // so a refusal names the object, not its folder. `to`: a rename's
  // destination, in the user's view, for the audit line.
  Outcome check(const Inode& node, Op op, const Caller& caller, std::string_view name = {},
                std::string_view to = {}) const;
  // A refusal decided by op code (a bad name, a cross-mapping rename):
  // logged and audited like check's, so refusals read `return policy.refuse(...)`.
  // `reason`: a literal from fs/refusal_reason.hpp's table (checked while compiling).
  Outcome refuse(const Inode& node, Op op, const Caller& caller, int err, RefusalReason reason,
                 std::string_view name = {}, std::string_view to = {}) const;

 private:
  const AuditTrail& trail_;
  Metrics* metrics_;
  const ViewEvents* events_;
};

}  // namespace gw::fs
