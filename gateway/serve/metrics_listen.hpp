// --metrics-listen ADDR:PORT: the address the metrics endpoint listens on,
// and its socket, bound once by the supervisor (fs/metrics.hpp: why) and
// handed to every worker it starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fs/unique_fd.hpp"

namespace gw::gateway {

struct ListenAddress {
  std::string host;  // a numeric IPv4 or IPv6 address: no name lookup at start
  std::uint16_t port = 0;
};

// "127.0.0.1:9464" or "[::1]:9464"; nullopt, with why in `problem`, for
// anything else (a host name, a missing or bad port).
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string* problem);

// A listening TCP socket on `address` (close-on-exec; the supervisor clears
// that for the worker it starts). Throws ExitError (1) naming the address
// when it cannot be bound (taken, not an address of this machine).
fs::UniqueFd listen_for_metrics(const ListenAddress& address);

}  // namespace gw::gateway
