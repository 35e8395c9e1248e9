#include "gateway/serve/metrics_listen.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "gateway/exit_codes.hpp"

namespace gw::gateway {
namespace {

// A numeric address of either family, as a socket address.
bool socket_address(const ListenAddress& a, struct sockaddr_storage* out, socklen_t* len) {
  *out = {};
  auto* v4 = reinterpret_cast<struct sockaddr_in*>(out);
  if (::inet_pton(AF_INET, a.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(a.port);
    *len = sizeof *v4;
    return true;
  }
  auto* v6 = reinterpret_cast<struct sockaddr_in6*>(out);
  if (::inet_pton(AF_INET6, a.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(a.port);
    *len = sizeof *v6;
    return true;
  }
  return false;
}

}  // namespace

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string* problem) {
  ListenAddress a;
  std::string_view port;
  if (text.starts_with('[')) {  // [IPv6]:PORT
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") {
      *problem = "expected [IPv6 address]:PORT";
      return std::nullopt;
    }
    a.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      *problem = "expected ADDRESS:PORT (an IPv6 address in brackets)";
      return std::nullopt;
    }
    a.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto r = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || value < 1 || value > 65535) {
    *problem = "the port must be 1 to 65535";
    return std::nullopt;
  }
  a.port = static_cast<std::uint16_t>(value);
  struct sockaddr_storage ss {};
  socklen_t len = 0;
  if (!socket_address(a, &ss, &len)) {
    *problem = "the address must be a numeric IPv4 or IPv6 address";
    return std::nullopt;
  }
  return a;
}

fs::UniqueFd listen_for_metrics(const ListenAddress& address) {
  const std::string shown = "metrics-listen " + address.host + " port " + std::to_string(address.port);
  struct sockaddr_storage ss {};
  socklen_t len = 0;
  if (!socket_address(address, &ss, &len)) throw ExitError(exit_code::usage, shown + ": not a numeric address");
  fs::UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw ExitError(exit_code::failure, shown + ": socket: " + std::strerror(errno));
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // a restarted gateway rebinds at once
  if (ss.ss_family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (::bind(fd.get(), reinterpret_cast<const struct sockaddr*>(&ss), len) != 0) {
    const int e = errno;
    throw ExitError(exit_code::failure, shown + ": " + (e == EADDRINUSE ? "already in use" : std::strerror(e)));
  }
  if (::listen(fd.get(), 16) != 0) throw ExitError(exit_code::failure, shown + ": listen: " + std::strerror(errno));
  return fd;
}

}  // namespace gw::gateway
