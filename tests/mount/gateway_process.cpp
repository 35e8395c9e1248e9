#include "mount/gateway_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "mount/files.hpp"

namespace gw::mount_test {
namespace {

std::vector<std::string>& registry() {
  static std::vector<std::string> logs;
  return logs;
}

// In the child, between fork and exec (the test process is single-threaded,
// but keep to plain syscalls anyway).
[[noreturn]] void exec_gateway(std::vector<char*>& argv, const std::string& log_path, pid_t parent,
                               unsigned long fd_limit) {
  // The gateway must not outlive a crashed test and keep a mount behind.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(126);
  const struct rlimit lim {fd_limit, fd_limit};
  if (fd_limit != 0 && ::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(126);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int null = ::open("/dev/null", O_RDONLY);
  if (log < 0 || null < 0) ::_exit(126);
  ::dup2(null, 0);
  ::dup2(log, 1);
  ::dup2(log, 2);
  ::execvp(argv[0], argv.data());  // a wrapper is found on PATH
  ::_exit(127);
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

std::string gateway_bin() {
  const char* bin = std::getenv("GATEWAY_BIN");
  if (!bin || !*bin) throw std::runtime_error("GATEWAY_BIN is not set (run the tests through ctest)");
  return bin;
}

GatewayProcess::GatewayProcess(const std::vector<std::string>& args, std::string log_path, unsigned long fd_limit,
                               const std::vector<std::string>& wrapper)
    : log_path_(std::move(log_path)) {
  std::vector<std::string> all = wrapper;
  all.push_back(gateway_bin());
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) exec_gateway(argv, log_path_, parent, fd_limit);
  registry().push_back(log_path_);
}

GatewayProcess::~GatewayProcess() {
  if (!exited_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  auto& logs = registry();
  logs.erase(std::remove(logs.begin(), logs.end(), log_path_), logs.end());
}

std::string GatewayProcess::log() const {
  try {
    return read_file(log_path_);
  } catch (const std::exception& e) {
    return e.what();
  }
}

bool GatewayProcess::poll_exit() {
  if (exited_) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  exited_ = true;
  code_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return true;
}

std::string GatewayProcess::wait_mounted(const std::string& mountpoint, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (is_fuse(mountpoint)) return "";
    if (poll_exit()) return "gateway exited with code " + std::to_string(code_) + " before mounting";
    sleep_ms(10);
  }
  return "not mounted after " + std::to_string(seconds) + " s";
}

int GatewayProcess::wait_exit(double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!poll_exit()) {
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    sleep_ms(10);
  }
  return code_;
}

void GatewayProcess::signal(int sig) const {
  if (!exited_) ::kill(pid_, sig);
}

pid_t GatewayProcess::worker() const {
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream status(it->path() / "status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("PPid:", 0) != 0) continue;
      if (std::stol(line.substr(5)) == pid_) return static_cast<pid_t>(std::stol(name));
      break;
    }
  }
  return 0;
}

std::vector<std::string> live_gateway_logs() { return registry(); }

int run_gateway(const std::vector<std::string>& args, const std::string& log_path, double seconds) {
  GatewayProcess p(args, log_path);
  const int code = p.wait_exit(seconds);
  return code;  // the destructor kills a process that did not exit
}

std::size_t open_fds(pid_t pid) {
  std::error_code ec;
  std::size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++n;
  return n;
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int err = errno;
  ::close(fd);
  if (!bound) throw std::runtime_error(std::string("a loopback port: ") + std::strerror(err));
  return ntohs(addr.sin_port);
}

}  // namespace gw::mount_test
