// Commands that talk to a running gateway through its state folder:
// `gateway reload` and `gateway status`.
#pragma once

#include <ostream>

#include "gateway/options.hpp"

namespace gw::gateway {

// Sends SIGHUP to the gateway serving with this state folder and waits (at
// most 5 s) for it to report the reload's outcome. 0 when it took effect.
int run_reload(const Settings& settings, std::ostream& out);

// Users, mappings and key counts from the configuration; whether the gateway
// runs, the view is mounted and, in host mode, sshd runs with the gateway's
// accounts (sshd_etc.hpp). Exit 0 only when serving.
int run_status(const Settings& settings, std::ostream& out);

}  // namespace gw::gateway
