// Host mode: runs the system's sshd on the rendered config, with only the
// capabilities it needs, and keeps it running until the gateway stops.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <optional>

#include "gateway/sshd/sessions.hpp"

namespace gw::gateway {

struct SshdLaunch {
  std::string sshd = "/usr/sbin/sshd";
  std::string view;                       // the mounted view (its etc/ is sshd's)
  std::vector<std::string> capabilities;  // e.g. {"SYS_CHROOT","SETUID","SETGID"}
  std::string etc_dir;                    // the gateway's files sshd's /etc links to (sshd/private_etc.hpp)
  std::string pid_file;                   // rewritten with each sshd started
};

// Parses capability names ("SYS_CHROOT" or "cap_sys_chroot"); throws
// UsageError naming an unknown one.
std::vector<int> capability_values(const std::vector<std::string>& names);

// Throws ExitError naming the address when sshd could not listen on `port`
// at every one of `addresses` (all addresses when empty): checked before
// anything is mounted, so a taken port is one clear line, not a restart loop.
void check_listen_free(const std::vector<std::string>& addresses, unsigned port);

class SshdSupervisor {
 public:
  explicit SshdSupervisor(SshdLaunch launch);
  ~SshdSupervisor();  // stops sshd
  SshdSupervisor(const SshdSupervisor&) = delete;
  SshdSupervisor& operator=(const SshdSupervisor&) = delete;

  void start();      // starts sshd and the thread that restarts it if it dies
  // Ends the listener (no new logins; sshd leaves running sessions alone)
  // and stops restarting it. Returns its mount namespace, which its
  // sessions share (sshd/sessions.hpp); nullopt when none was running.
  std::optional<MountNamespace> stop_listening();
  void stop();
  pid_t pid() const { return pid_.load(); }
  unsigned restarts() const { return restarts_.load(); }

 private:
  pid_t spawn();
  void supervise();

  SshdLaunch launch_;
  std::vector<int> keep_;
  std::atomic<pid_t> pid_{0};
  std::atomic<unsigned> restarts_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;                // guards the wait below
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace gw::gateway
