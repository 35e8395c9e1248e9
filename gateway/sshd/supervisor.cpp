#include "gateway/sshd/supervisor.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <cctype>
#include <cstdint>
#include <chrono>
#include <cstring>

#include "gateway/exit_codes.hpp"
#include "gateway/sshd/private_etc.hpp"

namespace gw::gateway {
namespace {

using namespace std::chrono_literals;

// In the child, between fork and exec: a private mount namespace whose /etc
// is the one sshd/private_etc.hpp describes (the host's entries, the gateway's
// accounts), then every capability outside `keep` leaves the bounding set,
// so sshd, although uid 0, starts with exactly `keep`.
[[noreturn]] void exec_sshd(const SshdLaunch& launch, const SshdEtcPlan& etc, const std::vector<int>& keep, cap_t caps,
                            pid_t parent, char* const* env) {
  // sshd must not outlive a gateway killed with SIGKILL (it would keep the
  // port). The signal follows the forking thread: the supervising thread,
  // which lives as long as sshd is wanted.
  if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent) ::_exit(127);
  const std::string config = launch.view + "/etc/ssh/sshd_config";
  if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    ::perror("gateway: sshd namespace");
    ::_exit(127);
  }
  if (const char* failed = mount_sshd_etc(etc)) {
    ::perror(failed);
    ::_exit(127);
  }
  // sshd stays uid 0 and, without any capability, still owns every
  // root-owned file it can reach (the state folder, the host's /etc): its
  // whole mount tree becomes read-only, the view alone excepted (the users'
  // uploads). Fails closed.
  // struct mount_attr of <linux/mount.h>, which clashes with <sys/mount.h>
  // on glibc 2.36.
  struct MountAttr {
    std::uint64_t attr_set, attr_clr, propagation, userns_fd;
  };
  constexpr std::uint64_t kAttrReadOnly = 0x1;  // MOUNT_ATTR_RDONLY
  const MountAttr read_only{kAttrReadOnly, 0, 0, 0};
  const MountAttr writable{0, kAttrReadOnly, 0, 0};
  if (::syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &read_only, sizeof read_only) != 0 ||
      ::syscall(SYS_mount_setattr, AT_FDCWD, launch.view.c_str(), AT_RECURSIVE, &writable, sizeof writable) != 0) {
    ::perror("gateway: sshd read-only mounts");
    ::_exit(127);
  }
  for (int c = 0; c <= CAP_LAST_CAP; ++c)
    if (std::find(keep.begin(), keep.end(), c) == keep.end() && cap_drop_bound(c) != 0 && errno != EINVAL) {
      ::perror("gateway: cap_drop_bound");
      ::_exit(127);
    }
  if (cap_set_proc(caps) != 0 || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    ::perror("gateway: capabilities");
    ::_exit(127);
  }
  const char* argv[] = {launch.sshd.c_str(), "-D", "-e", "-f", config.c_str(), nullptr};
  ::execve(argv[0], const_cast<char* const*>(argv), env);
  ::perror("gateway: exec sshd");
  ::_exit(127);
}

// The gateway's environment without NOTIFY_SOCKET: under a Type=notify unit
// Debian's sshd (linked with libsystemd) would say READY=1 itself at every
// start, before the gateway is ready and as a process systemd does not
// listen to (NotifyAccess=main: a warning in the journal each time).
std::vector<char*> sshd_environment() {
  std::vector<char*> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "NOTIFY_SOCKET=", 14) != 0) env.push_back(*e);
  env.push_back(nullptr);
  return env;
}

}  // namespace

std::vector<int> capability_values(const std::vector<std::string>& names) {
  std::vector<int> values;
  for (const auto& n : names) {
    std::string lower;
    for (char ch : n) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    if (lower.rfind("cap_", 0) != 0) lower = "cap_" + lower;
    cap_value_t v = 0;
    if (cap_from_name(lower.c_str(), &v) != 0) throw UsageError("unknown capability '" + n + "'");
    values.push_back(v);
  }
  return values;
}

void check_listen_free(const std::vector<std::string>& addresses, unsigned port) {
  const std::vector<std::string> all = addresses.empty() ? std::vector<std::string>{"0.0.0.0", "::"} : addresses;
  for (const auto& address : all) {
    struct addrinfo hints {};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    struct addrinfo* found = nullptr;
    if (::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found) != 0)
      throw UsageError("listen: cannot resolve '" + address + "'");
    for (const struct addrinfo* ai = found; ai; ai = ai->ai_next) {
      const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) continue;  // e.g. no IPv6 here: sshd skips it too
      const int on = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // as sshd does
      if (ai->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
      const bool taken = ::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno == EADDRINUSE;
      ::close(fd);
      if (taken) {
        ::freeaddrinfo(found);
        throw ExitError(exit_code::failure, address + " port " + std::to_string(port) +
                                                " is already in use; choose another --port");
      }
    }
    ::freeaddrinfo(found);
  }
}

SshdSupervisor::SshdSupervisor(SshdLaunch launch)
    : launch_(std::move(launch)), keep_(capability_values(launch_.capabilities)) {}

SshdSupervisor::~SshdSupervisor() { stop(); }

pid_t SshdSupervisor::spawn() {
  ::mkdir("/run/sshd", 0755);  // sshd's privilege separation chroot
  // Prepared before fork: the child only makes syscalls.
  const SshdEtcPlan etc = plan_sshd_etc(launch_.etc_dir);
  cap_t caps = cap_init();
  if (!keep_.empty()) {
    std::vector<cap_value_t> list(keep_.begin(), keep_.end());
    const int n = static_cast<int>(list.size());
    cap_set_flag(caps, CAP_PERMITTED, n, list.data(), CAP_SET);
    cap_set_flag(caps, CAP_EFFECTIVE, n, list.data(), CAP_SET);
  }
  const std::vector<char*> env = sshd_environment();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) exec_sshd(launch_, etc, keep_, caps, parent, env.data());
  cap_free(caps);
  if (pid < 0) throw ExitError(exit_code::failure, std::string("cannot start sshd: ") + std::strerror(errno));
  std::string names;
  for (const auto& c : launch_.capabilities) names += (names.empty() ? "" : ",") + c;
  spdlog::info("started sshd (pid {}) with capabilities {}", pid, names.empty() ? "(none)" : names);
  if (!launch_.pid_file.empty()) std::ofstream(launch_.pid_file, std::ios::trunc) << pid << "\n";
  return pid;
}

void SshdSupervisor::start() {
  pid_ = spawn();
  thread_ = std::thread([this] { supervise(); });
}

void SshdSupervisor::supervise() {
  auto delay = 1s;
  while (!stopping_) {
    if (const pid_t pid = pid_.load(); pid > 0) {  // 0: the last start failed
      int status = 0;
      if (::waitpid(pid, &status, 0) != pid) continue;
      if (stopping_) break;
      spdlog::error("sshd (pid {}) exited with status {}; restarting in {} s", pid,
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), delay.count());
    }
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, delay, [this] { return stopping_.load(); })) break;
    // Back off while it keeps failing (a port taken, a broken binary).
    delay = std::min<std::chrono::seconds>(delay * 2, 30s);
    // A start that throws (the host's /etc changing while it is listed, a
    // failed fork) must not end this thread, and with it the gateway.
    try {
      pid_ = spawn();
      ++restarts_;
    } catch (const std::exception& e) {
      pid_ = 0;
      spdlog::error("cannot restart sshd: {}; trying again in {} s", e.what(), delay.count());
    }
  }
}

std::vector<Process> SshdSupervisor::stop_listening() {
  const pid_t pid = pid_.load();
  std::vector<Process> sessions;
  // Stopped while its children are listed, the listener accepts and forks
  // no session the list would miss; once it is gone they are init's.
  if (pid > 0 && stop_process(pid)) sessions = children_of(pid);
  stop();
  return sessions;
}

void SshdSupervisor::stop() {
  if (stopping_.exchange(true)) return;
  wake_.notify_all();
  if (const pid_t pid = pid_.load(); pid > 0) {
    ::kill(pid, SIGTERM);
    ::kill(pid, SIGCONT);  // if stop_listening stopped it: the SIGTERM waits for this
  }
  if (thread_.joinable()) thread_.join();
  spdlog::info("stopped sshd");
}

}  // namespace gw::gateway
