// What every request handler shares: the exception firewall that guarantees
// exactly one reply, the caller's identity, attribute presentation and the
// confined lookup of one name.
#pragma once

#include <chrono>
#include <exception>
#include <utility>

#include "fs/identity.hpp"
#include "fs/request_kind.hpp"
#include "fs/view.hpp"

namespace gw::fs {

// Runs `body`, which either replies itself and returns 0, or returns an errno
// for the guard to reply with. An exception becomes EIO and a log line; a
// body must therefore reply last, after anything that can throw. The guard
// counts the request, its result and how long it took (fs/metrics.hpp);
// `op` is checked against fs/request_kind.hpp while compiling.
template <class Body>
void guarded(fuse_req_t req, RequestName op, Body&& body) noexcept;

Caller caller_of(fuse_req_t req);

// Attributes as the user sees them: objects stored as the mapping's stored
// owner are presented as the sftp user's; objects of the user's own ids
// (but another stored owner) as the kernel's overflow id (nobody); others
// keep their real owner.
struct stat present(const Inode& node, const struct stat& backing);
// The type (S_IFMT bits) an object of backing type `type` is shown with: a
// fifo, socket or device as a regular file (see present()).
mode_t presented_type(mode_t type);
struct stat synthetic_attr(const Inode& node);

// Current attributes of any node (fstat of the backing object), presented.
int attributes(View& view, const Inode& node, struct stat* out);

// The node called `name` in directory `parent`, counting one kernel
// reference; fills the presented attributes.
int lookup_child(View& view, const InodePtr& parent, const char* name, InodePtr* child, struct stat* attr);

// The O_PATH fd of a backed node (with the gateway's own identity).
sys::Result<SharedFd> node_fd(View& view, const Inode& node);

// Counts one more open file or folder handle for the caller; EMFILE (a
// refusal, logged and audited) when the caller or all users are at the cap.
Outcome take_handle(View& view, const Inode& node, Op op, const Caller& who, HandleQuota::Token* token);

void reply_entry(fuse_req_t req, View& view, const InodePtr& node, const struct stat& attr);

void log_exception(const char* op, const char* what) noexcept;

// The audit line of an operation on `name` in `dir`, or on `node` itself,
// to the view's trail, written before the reply so the trail is in the order
// clients saw. A refusal's line was written where it was decided: none
// again. `to`: a rename's destination. Never throw.
void audit_child(const View& view, const Caller& who, const Inode& dir, std::string_view name, Op op,
                 Outcome outcome, std::string_view to = {}) noexcept;
void audit_node(const View& view, const Caller& who, const Inode& node, Op op, Outcome outcome,
                std::uint64_t bytes = 0) noexcept;

template <class Body>
void guarded(fuse_req_t req, RequestName op, Body&& body) noexcept {
  View& view = view_of(req);  // outlives the request, which its reply ends
  view.note_transport(req);
  const auto start = std::chrono::steady_clock::now();
  int err = 0;
  try {
    err = std::forward<Body>(body)();
  } catch (const std::bad_alloc&) {
    err = ENOMEM;
  } catch (const std::exception& e) {
    log_exception(op.c_str(), e.what());
    err = EIO;
  } catch (...) {
    log_exception(op.c_str(), "unknown exception");
    err = EIO;
  }
  if (err != 0) fuse_reply_err(req, err);
  view.count_served();
  view.metrics().request(op.kind(), err, std::chrono::steady_clock::now() - start);
}

}  // namespace gw::fs
