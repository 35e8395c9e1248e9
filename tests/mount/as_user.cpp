#include "mount/as_user.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "mount/files.hpp"

namespace gw::mount_test {
namespace {

// Like sshd: chroot while still root, then groups, gid, uid (in that order:
// after setuid the process could no longer change its groups).
std::string become(const Who& who) {
  if (!who.chroot.empty()) {
    if (::chroot(who.chroot.c_str()) != 0) return "chroot " + who.chroot + ": " + std::strerror(errno);
    if (::chdir("/") != 0) return std::string("chdir /: ") + std::strerror(errno);
  }
  if (::setgroups(0, nullptr) != 0) return std::string("setgroups: ") + std::strerror(errno);
  if (::setgid(who.gid) != 0) return std::string("setgid: ") + std::strerror(errno);
  if (::setuid(who.uid) != 0) return std::string("setuid: ") + std::strerror(errno);
  ::umask(022);
  return "";
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// In the child: never returns, never throws back into Catch.
[[noreturn]] void child(const Who& who, const std::function<std::string()>& body, int out, unsigned timeout_s) {
  // Catch's crash handlers would report a crash here as the parent's test
  // failing; the parent reports the child's death itself.
  for (const int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTERM, SIGINT}) std::signal(sig, SIG_DFL);
  // SIGALRM's default action kills the child, which also ends a blocked
  // (interruptible) FUSE request.
  ::alarm(timeout_s);
  std::string text;
  int code = 0;
  if (std::string problem = become(who); !problem.empty()) {
    text = problem;
    code = 100;
  } else {
    try {
      text = body();
    } catch (const std::exception& e) {
      text = std::string("exception: ") + e.what();
      code = 101;
    }
  }
  write_all(out, text);
  ::_exit(code);
}

}  // namespace

std::string run_as(const Who& who, const std::function<std::string()>& body, unsigned timeout_s) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(p[0]);
    child(who, body, p[1], timeout_s);
  }
  ::close(p[1]);
  std::string text;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(p[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    throw std::runtime_error("child as uid " + std::to_string(who.uid) + " killed by signal " +
                             std::to_string(sig) + (sig == SIGALRM ? " (timed out: a call blocked)" : ""));
  }
  if (WEXITSTATUS(status) != 0) throw std::runtime_error("child as uid " + std::to_string(who.uid) + ": " + text);
  return text;
}

std::string Outcome::str() const {
  if (rc < 0) return errno_name(err);
  return rc == 0 ? "ok" : "ok " + std::to_string(rc);
}

Outcome call_as(const Who& who, const std::function<long()>& call, unsigned timeout_s) {
  const std::string text = run_as(
      who,
      [&] {
        errno = 0;
        const long rc = call();
        return std::to_string(rc) + " " + std::to_string(rc < 0 ? errno : 0);
      },
      timeout_s);
  std::istringstream in(text);
  Outcome o;
  in >> o.rc >> o.err;
  return o;
}

void Transcript::call(const std::string& what, long rc) {
  const Outcome o{rc, rc < 0 ? errno : 0};
  lines_.push_back(what + " -> " + o.str());
}

void Transcript::open(const std::string& what, int fd) {
  const int err = errno;
  if (fd >= 0) ::close(fd);
  lines_.push_back(what + " -> " + (fd >= 0 ? std::string("ok") : errno_name(err)));
}

void Transcript::note(const std::string& what, const std::string& value) { lines_.push_back(what + ": " + value); }

void Transcript::stat(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) lines_.push_back("stat " + path + " -> " + errno_name(errno));
  else lines_.push_back("stat " + path + ": " + describe(st));
}

void Transcript::list(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    lines_.push_back("list " + dir + " -> " + errno_name(errno));
    return;
  }
  std::vector<std::string> names;
  while (const struct dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  std::string all;
  for (const auto& n : names) all += n + " ";
  lines_.push_back("list " + dir + ": " + all);
}

std::string Transcript::text() const {
  std::string all;
  for (const auto& l : lines_) all += l + "\n";
  return all;
}

std::vector<std::string> transcript_as(const Who& who, const std::string& dir, const Script& script) {
  return split_lines(run_as(who, [&] {
    Transcript t;
    if (::chdir(dir.c_str()) != 0) throw std::runtime_error("chdir " + dir + ": " + std::strerror(errno));
    script(t);
    return t.text();
  }));
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

}  // namespace gw::mount_test
