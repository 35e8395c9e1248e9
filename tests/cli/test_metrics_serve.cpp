// What check and serve make of the metrics options: a metrics file in a
// folder that is not there is refused by both alike (exit 2, nothing
// written); a metrics address already taken is refused by serve before it
// mounts or generates anything (exit 1), like sshd's port.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "gateway/exit_codes.hpp"
#include "scenario.hpp"
#include "support/catch.hpp"

using gw::test::TempDir;

namespace {

// A loopback TCP port held open (listening) for the test's scope.
struct TakenPort {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int port = 0;
  TakenPort() {
    struct sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<struct sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 1) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<struct sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~TakenPort() { ::close(fd); }
};

}  // namespace

TEST_CASE("a metrics file in a missing folder: check and serve refuse it, nothing is written",
          "[cli][check][serve][metrics]") {
  const gw::test::SeedLayout seed;
  TempDir run("/run");
  const std::vector<std::string> args{"--data-dir", seed.data, "--volumes-dir", seed.volumes, "--mountpoint",
                                      run / "view", "--state-dir", run / "state", "--metrics-file",
                                      seed.dir / "nosuch/gw.prom"};
  const std::string line = "gateway: metrics-file: cannot write " + (seed.dir / "nosuch/gw.prom") + " in " +
                           (seed.dir / "nosuch") + ": No such file or directory";
  std::vector<std::string> check_args{"check"};
  check_args.insert(check_args.end(), args.begin(), args.end());
  const auto checked = gw::test::run_gateway(check_args, gw::test::seed_env);
  INFO(checked.err);
  CHECK(checked.code == gw::gateway::exit_code::usage);
  std::vector<std::string> serve_args{"20", gw::test::gateway_bin(), "serve"};
  serve_args.insert(serve_args.end(), args.begin(), args.end());
  const auto served = gw::test::run_program("/usr/bin/timeout", serve_args, gw::test::seed_env);
  INFO(served.err);
  CHECK(served.code == gw::gateway::exit_code::usage);
  CHECK(served.err.find(line.substr(9)) != std::string::npos);
  CHECK(checked.err.find(line.substr(9)) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(run / "state/host_keys"));
  CHECK_FALSE(std::filesystem::exists(run / "view/data"));
}

TEST_CASE("a metrics address already taken: serve stops at once, before anything is made", "[cli][serve][metrics]") {
  const gw::test::SeedLayout seed;
  TempDir run("/run");
  const TakenPort taken;
  const std::string address = "127.0.0.1:" + std::to_string(taken.port);
  const auto served = gw::test::run_program(
      "/usr/bin/timeout", {"20", gw::test::gateway_bin(), "serve", "--data-dir", seed.data, "--volumes-dir",
                           seed.volumes, "--mountpoint", run / "view", "--state-dir", run / "state",
                           "--metrics-listen", address},
      gw::test::seed_env);
  INFO(served.err);
  CHECK(served.code == gw::gateway::exit_code::failure);
  CHECK(served.err.find("gateway: metrics-listen 127.0.0.1 port " + std::to_string(taken.port) +
                        ": already in use\n") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(run / "state/host_keys"));
  CHECK_FALSE(std::filesystem::exists(run / "view/data"));
}
