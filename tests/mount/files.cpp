#include "mount/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gw::mount_test {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// Mount points from /proc/self/mountinfo (field 5), octal escapes undone.
std::vector<std::string> mount_points() {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<std::string> points;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string f;
    for (int i = 0; i < 5 && fields >> f; ++i) {
    }
    std::string point;
    for (std::size_t i = 0; i < f.size(); ++i) {
      if (f[i] == '\\' && i + 3 < f.size()) {
        point.push_back(static_cast<char>(std::stoi(f.substr(i + 1, 3), nullptr, 8)));
        i += 3;
      } else {
        point.push_back(f[i]);
      }
    }
    points.push_back(point);
  }
  return points;
}

}  // namespace

TempTree::TempTree(const std::string& base) {
  if (base != "/tmp") {
    if (::mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) fail("mkdir " + base);
    if (::chown(base.c_str(), 0, 0) != 0 || ::chmod(base.c_str(), 0755) != 0) fail("chown/chmod " + base);
  }
  std::string pattern = base + "/gw-mount-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) fail("mkdtemp");
  path_ = pattern;
  if (::chmod(path_.c_str(), 0755) != 0) fail("chmod " + path_);
}

TempTree::~TempTree() {
  try {
    unmount_below(path_);
  } catch (...) {
    // Best effort: removal below reports nothing either way.
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) std::fprintf(stderr, "warning: cannot remove %s: %s\n", path_.c_str(), ec.message().c_str());
}

std::string errno_name(int err) {
  if (err == 0) return "ok";
  const char* name = ::strerrorname_np(err);
  return name ? name : "errno " + std::to_string(err);
}

void make_dir(const std::string& path, uid_t uid, gid_t gid, mode_t mode) {
  if (::mkdir(path.c_str(), 0700) != 0) fail("mkdir " + path);
  if (::chown(path.c_str(), uid, gid) != 0) fail("chown " + path);
  if (::chmod(path.c_str(), mode) != 0) fail("chmod " + path);
}

void write_file(const std::string& path, const std::string& content, uid_t uid, gid_t gid, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) fail("create " + path);
  const ssize_t n = ::write(fd, content.data(), content.size());
  const bool ok = n == static_cast<ssize_t>(content.size()) && ::fchown(fd, uid, gid) == 0 &&
                  ::fchmod(fd, mode) == 0;
  const int err = errno;
  ::close(fd);
  errno = err;
  if (!ok) fail("write " + path);
}

std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("open " + path);
  std::string text;
  char buf[65536];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  const int err = errno;
  ::close(fd);
  errno = err;
  if (n < 0) fail("read " + path);
  return text;
}

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) fail("lstat " + path);
  return st;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string read_link(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) fail("readlink " + path);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::vector<std::string> names_in(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) fail("opendir " + dir);
  std::vector<std::string> names;
  while (const struct dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

long fs_type(const std::string& path) {
  struct statfs st {};
  if (::statfs(path.c_str(), &st) != 0) return -errno;
  return static_cast<long>(st.f_type);
}

bool is_fuse(const std::string& path) { return fs_type(path) == kFuseMagic; }

std::string describe(const struct stat& st) {
  const char* type = S_ISREG(st.st_mode)    ? "reg"
                     : S_ISDIR(st.st_mode)  ? "dir"
                     : S_ISLNK(st.st_mode)  ? "lnk"
                     : S_ISFIFO(st.st_mode) ? "fifo"
                     : S_ISSOCK(st.st_mode) ? "sock"
                                            : "dev";
  char text[160];
  std::snprintf(text, sizeof text, "%s %04o %u:%u size=%lld nlink=%lu", type,
                static_cast<unsigned>(st.st_mode & 07777), st.st_uid, st.st_gid,
                static_cast<long long>(st.st_size), static_cast<unsigned long>(st.st_nlink));
  return text;
}

bool is_mount_point(const std::string& path) {
  const std::vector<std::string> points = mount_points();
  return std::find(points.begin(), points.end(), path) != points.end();
}

void unmount_below(const std::string& path) {
  std::vector<std::string> below;
  for (const auto& p : mount_points()) {
    if (p == path || p.rfind(path + "/", 0) == 0) below.push_back(p);
  }
  // Longest first: a mount inside a volume before the view holding it.
  std::sort(below.begin(), below.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& p : below) {
    if (::umount2(p.c_str(), MNT_DETACH) != 0) fail("umount " + p);
  }
}

}  // namespace gw::mount_test
