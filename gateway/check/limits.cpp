#include "gateway/check/limits.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "fs/layout.hpp"
#include "fs/sys.hpp"

namespace gw::gateway {
namespace {

// The folders in plan order, each once: a volume's folder may be mapped by
// several rules (one limit, parse() made sure), a home by its user alone.
struct Folder {
  LimitReport report;
  std::string subdir;  // walked confined below the volume, as serve opens it
  std::optional<mapping::Owner> owner;
  mapping::Access access = mapping::Access::read_write;
  bool home = false;
};

std::vector<Folder> limited_folders(const mapping::Plan& plan) {
  std::vector<Folder> folders;
  std::map<std::string, std::size_t> index;  // folder key -> position in folders
  for (const mapping::UserPlan& user : plan.users) {
    if (user.home_limit.any()) {
      Folder& home = folders.emplace_back();
      home.report = LimitReport{mapping::home_key(user.user.name), user.home_limit, {user.user.name + ":~"},
                                user.home_backing, std::nullopt, 0, {}};
      home.owner = mapping::Owner{user.user.uid, user.user.gid};
      home.home = true;
    }
    for (const mapping::MountPlan& mount : user.mounts) {
      if (!mount.limit.any()) continue;
      const std::string key = mapping::folder_key(mount.volume, mount.subdir);
      const auto [it, fresh] = index.try_emplace(key, folders.size());
      if (fresh) {
        Folder& folder = folders.emplace_back();
        folder.report = LimitReport{key, mount.limit, {}, mount.backing, std::nullopt, 0, {}};
        folder.subdir = mount.subdir;
        folder.owner = mount.owner;
        folder.access = mount.access;
      }
      folders[it->second].report.mappings.push_back(user.user.name + ":" + mount.name);
    }
  }
  return folders;
}

void count(Folder& folder, int proc_fd) {
  LimitReport& r = folder.report;
  struct stat st {};
  if (folder.home && ::lstat(r.backing.c_str(), &st) != 0 && errno == ENOENT) {
    r.usage = fs::Usage{};  // serve creates it empty
    return;
  }
  const fs::MappedFolder opened = fs::open_mapped_folder(r.backing, folder.subdir, folder.owner, folder.access);
  if (!opened.fd) {
    r.problem = opened.problem;
    return;
  }
  // The opener gives an O_PATH fd; reading the folder takes a real one.
  const fs::sys::Result<fs::UniqueFd> dir = fs::sys::reopen(proc_fd, opened.fd->get(), O_RDONLY | O_DIRECTORY);
  if (!dir.ok()) {
    r.problem = "cannot read " + r.backing + ": " + std::strerror(dir.err);
    return;
  }
  const fs::ScanResult found = fs::count_usage(dir.value.get());
  r.usage = found.usage;
  r.unreadable = found.unreadable;
}

}  // namespace

std::vector<LimitReport> limit_reports(const mapping::Plan& plan) {
  std::vector<Folder> folders = limited_folders(plan);
  std::vector<LimitReport> reports;
  if (folders.empty()) return reports;
  const fs::sys::Result<fs::UniqueFd> proc = fs::sys::openat(AT_FDCWD, "/proc/self/fd", O_PATH | O_DIRECTORY);
  for (Folder& folder : folders) {
    if (proc.ok()) count(folder, proc.value.get());
    else folder.report.problem = std::string("cannot open /proc/self/fd: ") + std::strerror(proc.err);
    reports.push_back(std::move(folder.report));
  }
  return reports;
}

}  // namespace gw::gateway
