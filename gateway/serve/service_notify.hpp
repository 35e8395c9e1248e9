// systemd's readiness protocol for a `Type=notify` unit (sd_notify(3),
// systemd/sftp-gateway.service): the supervisor says READY=1 once a login
// can succeed, STOPPING=1 when it begins to shut down, and a STATUS= line
// for `systemctl status` with each. Outside systemd (no $NOTIFY_SOCKET), or
// in a build without libsystemd, every call does nothing and waits for
// nothing.
#pragma once

#include "gateway/options/options.hpp"

namespace gw::gateway {

// After the worker reported the view mounted and, in host mode, sshd was
// started: waits (at most 10 s) until something listens on sshd's port, so
// that systemd's "started" means logins work, then READY=1.
void announce_ready(const Settings& s);

// At the start of the shutdown: systemd shows the unit as deactivating.
void announce_stopping();

}  // namespace gw::gateway
