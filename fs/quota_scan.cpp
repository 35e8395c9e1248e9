// TEMPORARY simple walk (the quota-scan branch replaces it).
#include "fs/quota_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <utility>

namespace gw::fs {
namespace {

void walk(int dirfd, dev_t dev, ScanResult& r, std::set<std::pair<dev_t, ino_t>>& links, const std::atomic<bool>* stop) {
  DIR* d = ::fdopendir(dirfd);
  if (!d) {
    ::close(dirfd);
    ++r.unreadable;
    return;
  }
  while (const dirent* e = ::readdir(d)) {
    if (stop && stop->load()) {
      r.complete = false;
      break;
    }
    const std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (st.st_dev != dev) continue;
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && !links.insert({st.st_dev, st.st_ino}).second) continue;
    r.usage.files += 1;
    if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) r.usage.bytes += static_cast<std::uint64_t>(st.st_size);
    if (S_ISDIR(st.st_mode)) {
      const int sub = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) ++r.unreadable;
      else walk(sub, dev, r, links, stop);
    }
  }
  ::closedir(d);
}

}  // namespace

ScanResult count_usage(int dir, const std::atomic<bool>* stopping) {
  ScanResult r;
  struct stat st {};
  if (::fstat(dir, &st) != 0) return r;
  std::set<std::pair<dev_t, ino_t>> links;
  walk(::dup(dir), st.st_dev, r, links, stopping);
  return r;
}

}  // namespace gw::fs
