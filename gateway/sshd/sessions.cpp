#include "gateway/sshd/sessions.hpp"

#include <dirent.h>
#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

namespace gw::gateway {
namespace {

using namespace std::chrono_literals;

// The fields of /proc/<pid>/stat this file uses.
struct Stat {
  char state = '?';
  pid_t parent = 0;
  unsigned long long start = 0;
};

std::optional<Stat> stat_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // The command name (field 2) may hold anything, ')' included: the fields
  // after the last ')' are fixed.
  const auto paren = line.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(paren + 1));
  Stat s;
  std::string skip;
  rest >> s.state >> s.parent;
  for (int field = 5; field < 22 && rest; ++field) rest >> skip;  // fields 5 to 21
  rest >> s.start;
  if (!rest) return std::nullopt;
  return s;
}

}  // namespace

std::vector<Process> children_of(pid_t parent) {
  std::vector<Process> found;
  const std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return found;
  while (const struct dirent* e = ::readdir(proc.get())) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    const auto s = stat_of(static_cast<pid_t>(pid));
    if (s && s->parent == parent && s->state != 'Z') found.push_back({static_cast<pid_t>(pid), s->start});
  }
  return found;
}

bool running(const Process& p) {
  const auto s = stat_of(p.pid);
  return s && s->start == p.start && s->state != 'Z' && s->state != 'X';
}

std::vector<Process> still_running(const std::vector<Process>& processes) {
  std::vector<Process> left;
  for (const Process& p : processes)
    if (running(p)) left.push_back(p);
  return left;
}

bool stop_process(pid_t pid) {
  if (::kill(pid, SIGSTOP) != 0) return false;
  for (auto waited = 0ms; waited < 1s; waited += 5ms) {
    const auto s = stat_of(pid);
    if (!s) return false;
    if (s->state == 'T') return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

std::string describe_process(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (char& c : text)
    if (c == '\0') c = ' ';
  return std::to_string(pid) + " (" + (text.empty() ? "?" : text) + ")";
}

std::size_t end_processes(const std::vector<Process>& processes, std::chrono::milliseconds grace) {
  std::size_t refused = 0;
  for (const Process& p : still_running(processes))
    if (::kill(p.pid, SIGTERM) != 0 && errno == EPERM) ++refused;
  for (auto waited = 0ms; waited < grace && !still_running(processes).empty(); waited += 50ms)
    std::this_thread::sleep_for(50ms);
  for (const Process& p : still_running(processes)) ::kill(p.pid, SIGKILL);
  return refused;
}

}  // namespace gw::gateway
