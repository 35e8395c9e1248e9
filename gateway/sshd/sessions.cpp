#include "gateway/sshd/sessions.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

namespace gw::gateway {

using namespace std::chrono_literals;

std::optional<MountNamespace> mount_namespace_of(pid_t pid) {
  struct stat st {};
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/mnt";
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return MountNamespace{st.st_dev, st.st_ino};
}

namespace {

// A zombie's namespaces are gone already, but a process that exited may
// wait to be reaped by a parent that never does (an init that reaps no
// orphans): it holds nothing, so it is not counted.
bool exited(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] == 'Z' || line[paren + 2] == 'X';
}

}  // namespace

std::string describe_process(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (char& c : text)
    if (c == '\0') c = ' ';
  return std::to_string(pid) + " (" + (text.empty() ? "?" : text) + ")";
}

std::vector<pid_t> processes_in(const MountNamespace& ns) {
  std::vector<pid_t> found;
  const std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return found;
  while (const struct dirent* e = ::readdir(proc.get())) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (mount_namespace_of(static_cast<pid_t>(pid)) == ns && !exited(static_cast<pid_t>(pid)))
      found.push_back(static_cast<pid_t>(pid));
  }
  return found;
}

std::size_t end_processes_in(const MountNamespace& ns, std::chrono::milliseconds grace) {
  std::size_t refused = 0;
  for (const pid_t pid : processes_in(ns))
    if (::kill(pid, SIGTERM) != 0 && errno == EPERM) ++refused;
  for (auto waited = 0ms; waited < grace && !processes_in(ns).empty(); waited += 50ms) std::this_thread::sleep_for(50ms);
  for (const pid_t pid : processes_in(ns)) ::kill(pid, SIGKILL);
  return refused;
}

}  // namespace gw::gateway
