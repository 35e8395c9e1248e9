// Commands that talk to a running gateway through its state folder:
// `gateway reload` and `gateway status`, and what `gateway keys` asks it.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "gateway/options/options.hpp"
#include "mapping/model.hpp"

namespace gw::gateway {

// Sends SIGHUP to the gateway serving with this state folder and waits (at
// most 5 s) for it to report the reload's outcome. 0 when it took effect.
int run_reload(const Settings& settings, std::ostream& out);

// Users, mappings and key counts from the configuration; whether the gateway
// runs, the view is mounted and, in host mode, sshd runs with the gateway's
// accounts (sshd/private_etc.hpp); each limited folder's usage as the worker
// last recorded it (serve/quota_usage.hpp), when it did. Exit 0 only when
// serving.
int run_status(const Settings& settings, std::ostream& out);

// The users the gateway serving with this state folder serves, as it
// published them (after its last successful reload), each item labelled
// with that source; for a command given no users. Trusted only from a
// folder that is ours and writable by us alone (serve keeps it 0700).
// Throws UsageError (exit 2) when no gateway serves with it, saying where
// users can be given instead.
std::vector<mapping::Item> served_users(const std::string& state_dir);

}  // namespace gw::gateway
