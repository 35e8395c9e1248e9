// The gateway's own counts, read from its metrics page (--metrics-listen),
// for tests that check which requests reached the daemon.
#pragma once

#include <string>

namespace gw::mount_test {

// A loopback port nothing listens on now (the kernel's pick, then let go).
int free_port();

// The gateway's count of successful `request`s (sftp_gateway_requests_total).
long requests_ok(int port, const std::string& request);

}  // namespace gw::mount_test
