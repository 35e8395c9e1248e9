#include "gateway/sshd/mount_propagation.hpp"

#include <spdlog/spdlog.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fs/session.hpp"
#include "gateway/exit_codes.hpp"

namespace gw::gateway {
namespace {

// Whether the top mount at `path` is in a shared peer group ("shared:N" in
// mountinfo's optional fields), and whether anything is mounted there.
void inspect(const std::string& path, bool* mounted, bool* shared) {
  *mounted = *shared = false;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, options, optional;
    fields >> id >> parent >> dev >> root >> point >> options;
    if (point != path) continue;
    *mounted = true;
    *shared = false;
    while (fields >> optional && optional != "-")
      if (optional.rfind("shared:", 0) == 0) *shared = true;
  }
}

}  // namespace

bool make_mountpoint_shared(const std::string& path) {
  std::error_code ec;
  if (!fs::is_dead_mount(path)) std::filesystem::create_directories(path, ec);
  if (fs::is_dead_mount(path) && ::umount2(path.c_str(), MNT_DETACH) != 0)
    throw ExitError(exit_code::mount_failed, path + ": cannot detach a dead mount: " + std::strerror(errno));
  bool mounted = false, shared = false;
  inspect(path, &mounted, &shared);
  if (shared) return false;
  if (!mounted && ::mount(path.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0)
    throw ExitError(exit_code::mount_failed, path + ": cannot bind it onto itself: " + std::strerror(errno));
  if (::mount(nullptr, path.c_str(), nullptr, MS_SHARED, nullptr) != 0)
    throw ExitError(exit_code::mount_failed, path + ": cannot make it a shared mount: " + std::strerror(errno));
  spdlog::info("{}: made a shared mount, so sshd sees the view across worker restarts", path);
  return !mounted;
}

}  // namespace gw::gateway
