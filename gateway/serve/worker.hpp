// The FUSE worker: the process that mounts the view and serves it, reloads
// on SIGHUP or when the config or keys change. `gateway serve` supervises it
// (serve/serve.cpp): a worker that dies or hangs is replaced and remounts, while
// sshd keeps running.
#pragma once

#include "fs/audit.hpp"
#include "gateway/options/options.hpp"

namespace gw::gateway {

// Mounts and serves until SIGTERM/SIGINT, writing audit lines to `audit`.
// Writes one byte to `ready_fd` once the view is mounted (then closes it).
// Returns an exit code (exit_codes.hpp); 2, 3 or 4 before the mount means
// nothing was mounted.
int run_worker(Settings& settings, int ready_fd, fs::AuditTrail audit);

}  // namespace gw::gateway
