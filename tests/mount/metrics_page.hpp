// The gateway's own counts, read from its metrics page (--metrics-listen),
// for tests that check which requests reached the daemon.
#pragma once

#include <string>

namespace gw::mount_test {

// The gateway's count of successful `request`s (sftp_gateway_requests_total).
long requests_ok(int port, const std::string& request);

}  // namespace gw::mount_test
