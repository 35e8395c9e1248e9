#include "gateway/serve/service_notify.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#ifdef GATEWAY_SD_NOTIFY
#include <systemd/sd-daemon.h>
#endif

namespace gw::gateway {
namespace {

using namespace std::chrono_literals;

constexpr auto kListenTimeout = 10s;

// Read at each call, not cached: only the supervisor notifies, and its
// environment never changes after start.
bool under_systemd() {
#ifdef GATEWAY_SD_NOTIFY
  return std::getenv("NOTIFY_SOCKET") != nullptr;
#else
  return false;
#endif
}

void notify(const std::string& message) {
#ifdef GATEWAY_SD_NOTIFY
  // unset_environment 0: STOPPING=1 comes later from the same process. The
  // children never see the variable that matters (sshd's environment drops
  // it: sshd/supervisor.cpp), and NotifyAccess=main ignores any other.
  if (const int rc = sd_notify(0, message.c_str()); rc < 0)
    spdlog::warn("cannot notify systemd ({}): {}", message.substr(0, message.find('\n')), std::strerror(-rc));
#else
  (void)message;
#endif
}

// Whether /proc/net/tcp{,6} (this network namespace: sshd's) holds a
// listening socket (state 0A) on `port`. Line: "sl local_address:port
// rem_address:port st ...", the port in hex.
bool listening(unsigned port) {
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      if (!(fields >> slot >> local >> remote >> state)) continue;
      const auto colon = local.rfind(':');
      if (state == "0A" && colon != std::string::npos &&
          std::strtoul(local.c_str() + colon + 1, nullptr, 16) == port)
        return true;
    }
  }
  return false;
}

std::string serving_status(const Settings& s) {
  std::string status = "serving " + s.mountpoint;
  if (s.run_sshd) status += ", sshd on port " + std::to_string(s.port);
  return status;
}

}  // namespace

void announce_ready(const Settings& s) {
  if (!under_systemd()) return;
  // The port was free before sshd started (check_listen_free), so the
  // listener that appears now is sshd's.
  if (s.run_sshd) {
    const auto deadline = std::chrono::steady_clock::now() + kListenTimeout;
    while (!listening(s.port) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    if (!listening(s.port))
      spdlog::warn("sshd does not listen on port {} after {} s; telling systemd the gateway is ready anyway", s.port,
                   kListenTimeout.count());
  }
  notify("READY=1\nSTATUS=" + serving_status(s));
}

void announce_stopping() {
  if (!under_systemd()) return;
  notify("STOPPING=1\nSTATUS=stopping");
}

}  // namespace gw::gateway
