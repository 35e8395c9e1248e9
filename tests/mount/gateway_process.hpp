// One real `gateway` process (the binary under test, $GATEWAY_BIN), its
// stdout and stderr going to a log file. Live processes register their logs,
// so a failed assertion can print them (see listener.cpp).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace gw::mount_test {

class GatewayProcess {
 public:
  // Starts `gateway <args...>`; the process gets SIGTERM if the test dies.
  // A non-zero fd_limit becomes its soft and hard RLIMIT_NOFILE. A wrapper
  // (e.g. {"strace", ...}) runs the gateway under it: `<wrapper...> gateway <args...>`.
  GatewayProcess(const std::vector<std::string>& args, std::string log_path, unsigned long fd_limit = 0,
                 const std::vector<std::string>& wrapper = {});
  ~GatewayProcess();  // SIGKILL if still running
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string log() const;

  // "" once `mountpoint` is a FUSE mount; otherwise why not (the process
  // exited, or `seconds` passed).
  // The first start of a run also generates host keys (seconds on a busy
  // machine); a failing start ends early, so the bound costs nothing then.
  std::string wait_mounted(const std::string& mountpoint, double seconds = 30);
  // The exit code (128 + signal for a signal), or -1 if still running after
  // `seconds`.
  int wait_exit(double seconds = 5);
  void signal(int sig) const;
  // `gateway serve` is a supervisor; the FUSE worker serving the view is its
  // child process. 0 when there is none right now.
  pid_t worker() const;
  bool exited() const { return exited_; }

 private:
  bool poll_exit();
  pid_t pid_ = -1;
  std::string log_path_;
  bool exited_ = false;
  int code_ = -1;
};

// The logs of the gateways alive right now, for failure reports.
std::vector<std::string> live_gateway_logs();

// $GATEWAY_BIN (set by ctest).
std::string gateway_bin();

// Runs the gateway to completion (a command expected to fail fast); returns
// its exit code, or -1 if it was still running after `seconds` (then killed).
int run_gateway(const std::vector<std::string>& args, const std::string& log_path, double seconds = 10);

// Number of open descriptors of a process (entries of /proc/<pid>/fd).
std::size_t open_fds(pid_t pid);

// A loopback TCP port nothing listens on right now (for --port,
// --metrics-listen); throws std::runtime_error when none can be had.
int free_loopback_port();

}  // namespace gw::mount_test
