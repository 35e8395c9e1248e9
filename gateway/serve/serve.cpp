#include "gateway/serve/serve.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <malloc.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <poll.h>

#include "fs/session.hpp"
#include "gateway/serve/banner.hpp"
#include "gateway/serve/event_delivery.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/logging.hpp"
#include "gateway/sshd/mount_propagation.hpp"
#include "gateway/sshd/sessions.hpp"
#include "gateway/check/preflight.hpp"
#include "gateway/keys/host_keys.hpp"
#include "gateway/sshd/supervisor.hpp"
#include "gateway/serve/status_file.hpp"
#include "gateway/serve/metrics_listen.hpp"
#include "gateway/serve/progress_counter.hpp"
#include "gateway/serve/service_notify.hpp"
#include "gateway/serve/watchdog.hpp"
#include "gateway/serve/worker.hpp"

namespace gw::gateway {
namespace {

using namespace std::chrono_literals;

constexpr auto kWatchdogTimeout = 3s;
constexpr auto kStartTimeout = 60s;

// The worker is this binary again (exec, not just fork: the supervisor has
// threads, and a forked copy of a threaded process may inherit held locks).
// `metrics_fd`: the metrics endpoint's listening socket, or -1.
// `sshd_version`: what `sshd -V` told the supervisor ("9.2"), or empty.
pid_t spawn_worker(const Settings& s, const std::string& sshd_version, int progress_fd, int metrics_fd,
                   int* ready_read) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw ExitError(exit_code::failure, "pipe failed");
  std::vector<std::string> args{"gateway"};
  args.insert(args.end(), s.args.begin(), s.args.end());
  args.push_back("--worker-fd=" + std::to_string(p[1]));
  args.push_back("--progress-fd=" + std::to_string(progress_fd));
  if (metrics_fd >= 0) args.push_back("--metrics-fd=" + std::to_string(metrics_fd));
  if (!sshd_version.empty()) args.push_back("--sshd-version-found=" + sshd_version);
  std::vector<char*> argv;  // made before the fork: the child of a threaded process may not allocate
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the supervisor
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Nothing of the supervisor's crosses exec but what the worker is given:
    // libraries' descriptors may lack O_CLOEXEC (libcurl's keep-alive
    // sockets to event endpoints, before curl 8.17).
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::fcntl(p[1], F_SETFD, 0);  // the ready pipe and the counter cross exec
    ::fcntl(progress_fd, F_SETFD, 0);
    if (metrics_fd >= 0) ::fcntl(metrics_fd, F_SETFD, 0);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  ::close(p[1]);
  if (pid < 0) throw ExitError(exit_code::failure, std::string("cannot start the worker: ") + std::strerror(errno));
  *ready_read = p[0];
  return pid;
}

// Waits for the worker's "mounted" byte. Returns 0 when ready, else the
// worker's exit code (it exited before mounting).
int await_ready(pid_t pid, int ready_read) {
  struct pollfd pfd {ready_read, POLLIN, 0};
  const int n = ::poll(&pfd, 1, static_cast<int>(std::chrono::milliseconds(kStartTimeout).count()));
  char byte = 0;
  const bool ready = n == 1 && ::read(ready_read, &byte, 1) == 1 && byte == 'R';
  ::close(ready_read);
  if (ready) return 0;
  if (n == 0) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : exit_code::failure;
}

class Supervisor {
 public:
  explicit Supervisor(Settings& s) : settings_(s) {}

  int run() {
    refuse_what_preflight_refuses();
    forget_lists(settings_);  // workers read the configuration themselves
    block_signals();
    if (settings_.run_sshd) check_listen_free(settings_.listen, settings_.port);
    listen_for_metrics_once();
    // Before the first worker: it spools from its start, and a sink without
    // a cursor gets the events from then on.
    events_ = std::make_unique<EventDelivery>(settings_, progress_.supervisor());
    if (settings_.run_sshd) own_bind_ = make_mountpoint_shared(settings_.mountpoint);
    if (const int rc = start_worker()) {  // 2, 3 or 4: the worker said why
      if (own_bind_) ::umount2(settings_.mountpoint.c_str(), MNT_DETACH);  // nothing is left mounted
      return rc;
    }
    ::malloc_trim(0);  // what parsing a large configuration left free goes back to the system
    if (settings_.run_sshd) {
      sshd_ = std::make_unique<SshdSupervisor>(SshdLaunch{settings_.sshd_binary, settings_.mountpoint,
                                                          settings_.sshd_capabilities, settings_.state_dir + "/sshd-etc",
                                                          sshd_pid_path(settings_.state_dir)});
      sshd_->start();
    }
    SupervisorCounts& counts = progress_.supervisor();
    watchdog_ = std::make_unique<Watchdog>(
        settings_.mountpoint, kWatchdogTimeout, [this] { return progress_.value(); },
        [this, &counts] {
          counts.watchdog_hung.fetch_add(1, std::memory_order_relaxed);
          // The verdict is on the worker serving now: a restart before the
          // supervisor acts on it (the signal waits while a restart runs)
          // makes it stale, and a healthy new worker is not killed for it.
          judged_.store(generation_.load(std::memory_order_acquire), std::memory_order_release);
          ::kill(::getpid(), SIGUSR1);
        },
        [&counts] { counts.watchdog_slow.fetch_add(1, std::memory_order_relaxed); });
    watchdog_->start();
    announce_ready(settings_);  // systemd (Type=notify): logins work from now on
    const int rc = loop();
    shutdown();
    return rc;
  }

 private:
  // Before anything is generated, bound or started: the same judgement as
  // `check`. The backing folders are judged here only before host keys are
  // generated (seconds for RSA 4096, and keys left in a state folder that a
  // refused configuration never uses); otherwise the worker opens each one
  // once while it builds the view and refuses the same way, before it
  // mounts (with 10,000 users, opening them twice cost a third of the start).
  void refuse_what_preflight_refuses() {
    const bool generates_keys = settings_.host_keys_dir.empty() && host_keys_missing(settings_.state_dir);
    const Preflight pre = preflight(settings_, generates_keys ? Judge::all : Judge::configuration_only);
    if (pre.openssh) sshd_version_ = std::to_string(pre.openssh->major) + "." + std::to_string(pre.openssh->minor);
    if (pre.ok()) return;
    for (const mapping::Problem& problem : pre.problems) std::cerr << problem.line() << '\n';
    throw ExitError(pre.exit_code, std::to_string(pre.problems.size()) + " problem(s); nothing was mounted");
  }

  // Bound once, here, for every worker to come (fs/metrics.hpp: why): a bad
  // or taken address stops serve before anything is mounted.
  void listen_for_metrics_once() {
    if (settings_.metrics_listen.empty()) return;
    std::string problem;
    const auto address = parse_listen_address(settings_.metrics_listen, &problem);
    if (!address) throw UsageError("metrics-listen: " + problem);  // options checked it: not reached
    metrics_listener_ = listen_for_metrics(*address);
    spdlog::info("metrics at http://{}/metrics", settings_.metrics_listen);
  }

  static void block_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (const int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1}) sigaddset(&set, sig);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);  // threads made later inherit it; sigwait takes them
  }

  int start_worker() {
    int ready = -1;
    worker_ = spawn_worker(settings_, sshd_version_, progress_.fd(), metrics_listener_.get(), &ready);
    const int rc = await_ready(worker_, ready);
    if (rc) worker_ = 0;
    else generation_.fetch_add(1, std::memory_order_release);
    return rc;
  }

  static sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (const int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1}) sigaddset(&set, sig);
    return set;
  }

  int loop() {
    const sigset_t set = handled_signals();
    for (;;) {
      int sig = 0;
      if (::sigwait(&set, &sig) != 0) continue;
      if (sig == SIGTERM || sig == SIGINT) return exit_code::ok;
      handle(sig);
    }
  }

  // What the supervisor does for the worker, serving or draining alike.
  void handle(int sig) {
    if (sig == SIGHUP && worker_ > 0) ::kill(worker_, SIGHUP);
    if (sig == SIGUSR1 && worker_ > 0) {
      if (judged_.load(std::memory_order_acquire) == generation_.load(std::memory_order_acquire)) {
        spdlog::error("worker {} is hung; killing it", worker_);
        ::kill(worker_, SIGKILL);
      } else {
        spdlog::info("watchdog: its verdict was on a worker already replaced; worker {} is left serving", worker_);
      }
    }
    if (sig == SIGCHLD) reap_and_restart();
  }

  // Host mode's graceful stop (a rolling update, a node drain, systemctl
  // stop): sshd stops taking logins, running sessions get --drain-timeout
  // to finish while the view keeps serving them, then what is left is ended.
  // A second SIGTERM or SIGINT ends the wait.
  void drain_sessions() {
    if (!sshd_) return;
    const std::vector<Process> sessions = sshd_->stop_listening();
    std::vector<Process> left = still_running(sessions);
    if (left.empty()) return;
    spdlog::info("draining: sshd takes no new logins; waiting up to {} s for {} session(s)", settings_.drain_timeout,
                 left.size());
    const sigset_t set = handled_signals();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(settings_.drain_timeout);
    while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
      const struct timespec tick {0, 200'000'000};
      const int sig = ::sigtimedwait(&set, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("draining: asked again to stop; ending the sessions now");
        break;
      }
      if (sig > 0) handle(sig);
      left = still_running(left);
    }
    if (left.empty()) {
      spdlog::info("draining: every session ended");
      return;
    }
    std::string which;
    for (const Process& p : left) which += (which.empty() ? "" : ", ") + describe_process(p.pid);
    spdlog::warn("draining: ending {} session(s) still running: {}", left.size(), which);
    if (const std::size_t refused = end_processes(left, 2s))
      spdlog::warn("draining: {} session process(es) could not be signalled (no CAP_KILL); they lose the view", refused);
  }

  void reap_and_restart() {
    int status = 0;
    if (worker_ <= 0 || ::waitpid(worker_, &status, WNOHANG) != worker_) return;
    spdlog::error("worker {} ended ({}); restarting it", worker_,
                  WIFSIGNALED(status) ? std::string("signal ") + strsignal(WTERMSIG(status))
                                      : "exit " + std::to_string(WEXITSTATUS(status)));
    worker_ = 0;
    for (auto delay = 100ms; worker_ == 0; delay = std::min<std::chrono::milliseconds>(delay * 2, 5s)) {
      if (start_worker() == 0) break;
      spdlog::error("worker failed to start; retrying in {} ms", delay.count());
      std::this_thread::sleep_for(delay);
    }
    ++restarts_;
    progress_.supervisor().worker_restarts.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("worker {} serving again (restart {})", worker_, restarts_);
  }

  void shutdown() {
    announce_stopping();  // systemd: deactivating, during the drain too
    drain_sessions();
    if (events_) events_->request_stop();  // deliveries in flight end while the rest stops
    if (watchdog_) watchdog_->stop();
    if (sshd_) sshd_->stop();
    remove_sshd_pid(settings_.state_dir);
    if (worker_ > 0) {
      ::kill(worker_, SIGTERM);  // it unmounts
      int status = 0;
      ::waitpid(worker_, &status, 0);
    }
    if (own_bind_) ::umount2(settings_.mountpoint.c_str(), MNT_DETACH);  // leave the mountpoint as found
    if (events_) events_->stop();
  }

  Settings& settings_;  // its lists forgotten once judged
  ProgressCounter progress_ = ProgressCounter::create();  // kept across worker restarts
  fs::UniqueFd metrics_listener_;  // --metrics-listen's socket, handed to every worker
  pid_t worker_ = 0;
  // Workers started so far, and the one the watchdog's last verdict was on.
  std::atomic<std::uint64_t> generation_{0}, judged_{0};
  std::string sshd_version_;  // asked once, here, and handed to every worker
  unsigned restarts_ = 0;
  bool own_bind_ = false;  // host mode: the shared bind mount made at start
  std::unique_ptr<SshdSupervisor> sshd_;
  std::unique_ptr<Watchdog> watchdog_;
  std::unique_ptr<EventDelivery> events_;  // after progress_: its couriers count there
};

}  // namespace

int serve(Settings& settings) {
  // Opened here too, though only the worker writes to it: a trail that
  // cannot be opened is a configuration error before anything starts.
  auto audit = make_audit_logger(settings.audit_log);
  if (settings.worker_fd >= 0) return run_worker(settings, settings.worker_fd, fs::AuditTrail(std::move(audit)));
  audit.reset();
  log_banner(settings);
  Supervisor supervisor(settings);
  return supervisor.run();
}

}  // namespace gw::gateway
