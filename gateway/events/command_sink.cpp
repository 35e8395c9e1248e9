#include "gateway/events/command_sink.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <utility>
#include <vector>

#include "fs/unique_fd.hpp"
#include "gateway/events/command_env.hpp"

namespace gw::gateway {
namespace {

using fs::UniqueFd;
using Clock = std::chrono::steady_clock;

// What the child failed at before exec. It sends {step, errno} on a
// close-on-exec pipe: a successful exec closes the pipe with nothing in it.
enum Step : int {
  kSignals, kSession, kStdio, kCloseFds, kChdir, kGroups, kGid, kUid, kNoNewPrivs, kDeathSignal, kExec
};
constexpr const char* kStepNames[] = {"signals",   "setsid",    "stdio",        "close_range", "chdir", "setgroups",
                                      "setresgid", "setresuid", "no_new_privs", "pdeathsig",   "execve"};
static_assert(std::size(kStepNames) == kExec + 1, "a name for every step");
struct ChildFailure {
  int step = 0;
  int err = 0;
};

// Everything the child needs, made before fork: between fork and exec a
// child of this multithreaded process may only make async-signal-safe calls
// (another thread may have held the allocator's lock at the fork).
struct Launch {
  const char* path;
  char* const* argv;
  char* const* envp;
  int stdin_fd;    // the pipe's read end, > 2
  int failure_fd;  // the error pipe's write end, > 2, close-on-exec
  uid_t uid;
  gid_t gid;
  pid_t parent;
};

[[noreturn]] void fail(const Launch& l, Step step) {
  const ChildFailure failure{step, errno};
  [[maybe_unused]] const ssize_t n = ::write(l.failure_fd, &failure, sizeof failure);
  ::_exit(127);
}

// The child, from fork to exec.
[[noreturn]] void exec_command(const Launch& l) {
  // A clean signal state: the courier thread's mask (the supervisor blocks
  // SIGTERM, SIGCHLD, ...) and any ignored signal would survive exec.
  sigset_t none;
  sigemptyset(&none);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);  // EINVAL for glibc's own: fine
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) fail(l, kSignals);
  // Its own session and process group: at the time limit the whole group
  // is killed, whatever the command started.
  if (::setsid() < 0) fail(l, kSession);
  // stdin: the event; stdout and stderr: the gateway's stderr (its log).
  if (::dup2(l.stdin_fd, 0) != 0 || ::dup2(2, 1) != 1) fail(l, kStdio);
  // Nothing else of the gateway's (the spool, sockets, the FUSE device):
  // every fd above 2 but the error pipe, which exec closes itself.
  if ((l.failure_fd > 3 && ::close_range(3, static_cast<unsigned>(l.failure_fd) - 1, 0) != 0) ||
      ::close_range(static_cast<unsigned>(l.failure_fd) + 1, ~0U, 0) != 0)
    fail(l, kCloseFds);
  if (::chdir("/") != 0) fail(l, kChdir);
  // Groups, then the gid, then the uid (which needs the privilege the two
  // others use). Changing every uid away from 0 clears the permitted and
  // effective capability sets: the command keeps none.
  if (::setgroups(0, nullptr) != 0) fail(l, kGroups);
  if (::setresgid(l.gid, l.gid, l.gid) != 0) fail(l, kGid);
  if (::setresuid(l.uid, l.uid, l.uid) != 0) fail(l, kUid);
  // No set-uid program or file capability can give it any back.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(l, kNoNewPrivs);
  // Killed with the gateway. Set after the uid change, which clears it; the
  // signal follows the forking courier thread, which waits for this child.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(l, kDeathSignal);
  if (::getppid() != l.parent) ::_exit(127);
  ::execve(l.path, l.argv, l.envp);
  fail(l, kExec);
}

// A pipe whose ends are above stdin, stdout and stderr (the child moves its
// read end to 0 and must not find it there already).
bool make_pipe(UniqueFd* read_end, UniqueFd* write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  for (int i = 0; i < 2; ++i)
    if (p[i] <= 2) {
      const int moved = ::fcntl(p[i], F_DUPFD_CLOEXEC, 3);
      ::close(p[i]);
      p[i] = moved;
    }
  read_end->reset(p[0]);
  write_end->reset(p[1]);
  return read_end->valid() && write_end->valid();
}

// The event line, written whole into the stdin pipe BEFORE the fork, then
// the write end closed: the command reads it whenever it likes (or never),
// and this thread never blocks on it nor meets SIGPIPE (the read end is
// still ours while we write). The pipe is grown to hold the line when it
// is over the default 64 KiB (long names, escaped); the write end is
// non-blocking, so a pipe that cannot grow fails this attempt, not the thread.
std::string fill_stdin(int write_end, const std::string& line) {
  const int capacity = ::fcntl(write_end, F_GETPIPE_SZ);
  if (capacity < 0) return std::string("F_GETPIPE_SZ: ") + std::strerror(errno);
  if (line.size() > static_cast<std::size_t>(capacity) &&
      ::fcntl(write_end, F_SETPIPE_SZ, static_cast<int>(line.size())) < 0)
    return "cannot pass " + std::to_string(line.size()) + " bytes on stdin: " + std::strerror(errno);
  if (::fcntl(write_end, F_SETFL, O_NONBLOCK) != 0) return std::string("F_SETFL: ") + std::strerror(errno);
  const ssize_t n = ::write(write_end, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size()))
    return "cannot pass " + std::to_string(line.size()) + " bytes on stdin: " +
           (n < 0 ? std::strerror(errno) : "short write");
  return "";
}

// Kills `pid`'s process group (and `pid`, in case it died or was stopped
// before its setsid) at once.
void kill_group(pid_t pid) {
  ::kill(-pid, SIGKILL);  // ESRCH before the child's setsid: the next line covers it
  ::kill(pid, SIGKILL);   // not reaped yet, so the pid is still the child's
}

// The child's wait status, or -1 with errno (ECHILD if someone else reaped
// it). Always called, so no zombie stays behind.
int reap(pid_t pid) {
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, 0) == pid) return status;
    if (errno != EINTR) return -1;
  }
}

// Waits for the child within `timeout`: its exit (the pidfd turns readable)
// and, until exec, the error pipe. At the limit the process group is killed.
// Only this thread waits for this pid (the supervisor reaps its worker and
// sshd by pid, never -1), so the pid stays the child's until reap().
DeliveryResult wait_for(pid_t pid, int failure_fd, std::chrono::milliseconds timeout, const std::string& timeout_text,
                        const std::string& path) {
  // The raw syscall: glibc 2.36's <sys/pidfd.h> declares pidfd_open
  // without C linkage, so C++ cannot link against it.
  const UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    const int err = errno;
    kill_group(pid);
    reap(pid);
    return {false, std::string("pidfd_open: ") + std::strerror(err)};
  }
  ::fcntl(failure_fd, F_SETFL, O_NONBLOCK);
  ChildFailure failure;
  bool failed = false, exec_known = false, exited = false;
  auto read_failure = [&] {
    const ssize_t n = ::read(failure_fd, &failure, sizeof failure);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    exec_known = true;  // EOF: exec closed the pipe; or the child's report
    failed = n == static_cast<ssize_t>(sizeof failure);
  };
  const auto deadline = Clock::now() + timeout;
  while (!exited) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    struct pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {exec_known ? -1 : failure_fd, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 60'000)));
    if (n < 0 && errno != EINTR) break;  // cannot wait: end it as at the limit
    if (n > 0 && fds[1].revents != 0) read_failure();
    if (n > 0 && fds[0].revents != 0) exited = true;
  }
  if (!exited) kill_group(pid);
  const int status = reap(pid);
  const int reap_err = errno;
  if (!exec_known) read_failure();  // written before its _exit, so already there
  if (failed) {
    const int step = failure.step >= 0 && failure.step <= kExec ? failure.step : kExec;
    return {false, "cannot start " + path + ": " + kStepNames[step] + ": " + std::strerror(failure.err)};
  }
  if (!exited) return {false, "timed out after " + timeout_text};
  if (status < 0) return {false, std::string("waitpid: ") + std::strerror(reap_err)};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {true, ""};
  if (WIFEXITED(status)) return {false, "exit " + std::to_string(WEXITSTATUS(status))};
  if (WIFSIGNALED(status)) return {false, "killed by signal " + std::to_string(WTERMSIG(status))};
  return {false, "ended with status " + std::to_string(status)};
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", seconds);
  return text;
}

}  // namespace

CommandSink::CommandSink(std::string path, uid_t uid, gid_t gid, double timeout_seconds)
    : path_(std::move(path)),
      uid_(uid),
      gid_(gid),
      timeout_(std::max(1L, std::lround(timeout_seconds * 1000))),
      timeout_text_(seconds_text(timeout_seconds)) {}

DeliveryResult CommandSink::deliver(const SpooledEvent& event) {
  std::vector<std::string> env;
  try {
    env = command_environment(event.json);
  } catch (const std::invalid_argument& e) {
    return {false, e.what()};
  }
  std::vector<std::string> args{path_};
  const std::vector<char*> argv = pointers(args);
  const std::vector<char*> envp = pointers(env);

  UniqueFd stdin_read, stdin_write, failure_read, failure_write;
  if (!make_pipe(&stdin_read, &stdin_write) || !make_pipe(&failure_read, &failure_write))
    return {false, std::string("pipe: ") + std::strerror(errno)};
  if (std::string problem = fill_stdin(stdin_write.get(), event.json + "\n"); !problem.empty())
    return {false, problem};
  stdin_write.reset();

  const Launch launch{path_.c_str(), argv.data(), envp.data(), stdin_read.get(), failure_write.get(),
                      uid_, gid_, ::getpid()};
  const pid_t pid = ::fork();
  if (pid == 0) exec_command(launch);
  if (pid < 0) return {false, std::string("fork: ") + std::strerror(errno)};
  stdin_read.reset();
  failure_write.reset();
  return wait_for(pid, failure_read.get(), timeout_, timeout_text_, path_);
}

}  // namespace gw::gateway
