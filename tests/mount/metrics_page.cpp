#include "mount/metrics_page.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <regex>

#include "support/catch.hpp"

namespace gw::mount_test {

// The gateway's count of successful `request`s, from its metrics page.
long requests_ok(int port, const std::string& request) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(s >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  const std::string get = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::write(s, get.data(), get.size()) == static_cast<ssize_t>(get.size()));
  std::string page;
  char buf[65536];
  for (ssize_t n; (n = ::read(s, buf, sizeof buf)) > 0;) page.append(buf, static_cast<std::size_t>(n));
  ::close(s);
  std::smatch m;
  const std::regex line("\nsftp_gateway_requests_total\\{request=\"" + request + "\",result=\"ok\"\\} ([0-9]+)");
  REQUIRE(std::regex_search(page, m, line));
  return std::stol(m[1]);
}

}  // namespace gw::mount_test
