#include "cli_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/prerequisite.hpp"

namespace gw::test {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0) fail("pipe2");
  }
  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  void close_end(int i) {
    ::close(fd[i]);
    fd[i] = -1;
  }
};

// In the child: wire the pipes to fds 0-2 and exec. Only async-signal-safe
// calls between fork and exec.
[[noreturn]] void exec_child(Pipe& in, Pipe& out, Pipe& err, std::vector<char*>& argv, std::vector<char*>& envp) {
  std::signal(SIGPIPE, SIG_DFL);
  ::dup2(in.fd[0], 0);
  ::dup2(out.fd[1], 1);
  ::dup2(err.fd[1], 2);
  ::execve(argv[0], argv.data(), envp.data());
  ::_exit(127);
}

// Feeds input and drains both outputs at once, so neither side can block
// on a full pipe.
void pump(Pipe& in, Pipe& out, Pipe& err, const std::string& input, RunResult& result) {
  std::size_t written = 0;
  if (input.empty()) in.close_end(1);
  std::array<char, 4096> buf{};
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    std::array<pollfd, 3> fds{{{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}, {in.fd[1], POLLOUT, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) fail("poll");
    for (int i = 0; i < 2; ++i) {
      Pipe& p = i == 0 ? out : err;
      if (p.fd[0] < 0 || fds[static_cast<std::size_t>(i)].revents == 0) continue;
      const ssize_t n = ::read(p.fd[0], buf.data(), buf.size());
      if (n > 0) (i == 0 ? result.out : result.err).append(buf.data(), static_cast<std::size_t>(n));
      else p.close_end(0);
    }
    if (in.fd[1] >= 0 && fds[2].revents != 0) {
      const ssize_t n = ::write(in.fd[1], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n <= 0 || written == input.size()) in.close_end(1);
    }
  }
}

}  // namespace

TempDir::TempDir(const std::string& base) {
  std::string pattern = base + "/gw-cli-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) fail("mkdtemp");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) fail("lstat " + path);
  return st.st_mode & 07777;
}

void make_dir(const std::string& path, unsigned mode, unsigned uid, unsigned gid) {
  std::filesystem::create_directories(path);
  if (::chown(path.c_str(), uid, gid) != 0) fail("chown " + path);
  if (::chmod(path.c_str(), mode) != 0) fail("chmod " + path);
}

EnvVar::EnvVar(std::string name, const char* value) : name_(std::move(name)) {
  if (const char* old = std::getenv(name_.c_str())) {
    had_ = true;
    old_ = old;
  }
  if (value) ::setenv(name_.c_str(), value, 1);
  else ::unsetenv(name_.c_str());
}

EnvVar::~EnvVar() {
  if (had_) ::setenv(name_.c_str(), old_.c_str(), 1);
  else ::unsetenv(name_.c_str());
}

RunResult run_program(const std::string& program, const std::vector<std::string>& args, const Env& env,
                      const std::string& input) {
  std::vector<std::string> arg_strings{program};
  arg_strings.insert(arg_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings{"PATH=/usr/local/bin:/usr/bin:/bin"};
  if (const char* path = std::getenv("PATH")) env_strings.front() = std::string("PATH=") + path;
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> argv, envp;
  for (std::string& s : arg_strings) argv.push_back(s.data());
  for (std::string& s : env_strings) envp.push_back(s.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);

  // A child that exits without reading its input must not kill the test.
  std::signal(SIGPIPE, SIG_IGN);
  Pipe in, out, err;
  const pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) exec_child(in, out, err, argv, envp);
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  RunResult result;
  pump(in, out, err, input, result);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail("waitpid");
  }
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string gateway_bin() {
  const char* bin = std::getenv("GATEWAY_BIN");
  require(bin != nullptr && *bin != '\0', "GATEWAY_BIN (run the test through ctest)");
  return bin;
}

RunResult run_gateway(const std::vector<std::string>& args, const Env& env) {
  return run_program(gateway_bin(), args, env);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

}  // namespace gw::test
