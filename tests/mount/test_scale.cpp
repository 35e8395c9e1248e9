// Scale: a volume with more entries than the gateway's open-file limit. An
// fd per known inode (libfuse's passthrough example) fails here with EMFILE;
// the view must serve every entry with its descriptors bounded.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

// The limit of this machine (20,000, not raisable even by root); lower
// limits elsewhere are used as they are, higher ones are capped so the tree
// is always larger than the limit.
constexpr unsigned long kFdLimit = 20000;
constexpr int kDirs = 25;
constexpr int kFilesPerDir = 1000;

// Empty files made with mknod: one syscall each, and no blocks to free when
// the tree is removed, so the setup stays a small part of the test.
void plant(const std::string& web) {
  for (int d = 0; d < kDirs; ++d) {
    const std::string dir = web + "/d" + std::to_string(d);
    make_dir(dir, kVolumeOwner, kVolumeOwner, 0755);
    for (int i = 0; i < kFilesPerDir; ++i) {
      const std::string p = dir + "/f" + std::to_string(i);
      REQUIRE(::mknod(p.c_str(), S_IFREG | 0644, 0) == 0);
    }
  }
}

struct Walk {
  int stats = 0;
  int reads = 0;
  std::map<std::string, int> errors;  // errno name -> count
  std::size_t max_fds = 0;
};

// Like `find -exec cat`: list each folder, stat and read every entry; the
// gateway's descriptors are counted after each folder.
Walk walk(const std::string& root, pid_t gateway) {
  Walk w;
  for (int d = 0; d < kDirs; ++d) {
    const std::string dir = root + "/d" + std::to_string(d);
    DIR* listing = ::opendir(dir.c_str());
    if (!listing) {
      ++w.errors[errno_name(errno)];
      continue;
    }
    while (const struct dirent* e = ::readdir(listing)) {
      if (e->d_name[0] == '.') continue;
      struct stat st {};
      if (::fstatat(::dirfd(listing), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) ++w.errors[errno_name(errno)];
      else if (S_ISREG(st.st_mode)) ++w.stats;
      const int fd = ::openat(::dirfd(listing), e->d_name, O_RDONLY | O_CLOEXEC);
      char c = 0;
      if (fd < 0) ++w.errors[errno_name(errno)];
      else if (::read(fd, &c, 1) == 0) ++w.reads;
      if (fd >= 0) ::close(fd);
    }
    ::closedir(listing);
    w.max_fds = std::max(w.max_fds, open_fds(gateway));
  }
  return w;
}

}  // namespace

TEST_CASE("a tree larger than the open-file limit is served with bounded descriptors", "[scale]") {
  struct rlimit own {};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &own) == 0);
  const unsigned long limit = std::min<unsigned long>(own.rlim_max, kFdLimit);
  REQUIRE(static_cast<unsigned long>(kDirs * kFilesPerDir) > limit);
  MountedView v;
  plant(v.add_volume("web"));
  ViewSpec spec{{ann}, {"web:ann:web"}};
  spec.fd_limit = limit;
  v.start(spec);
  const pid_t worker = v.process().worker();
  REQUIRE(worker > 0);
  const std::size_t idle_fds = open_fds(worker);

  const Walk w = walk(v.home(ann) + "/web", worker);
  for (const auto& [name, count] : w.errors) {
    INFO(name << " x " << count);
    CHECK(count == 0);
  }
  CHECK(w.stats == kDirs * kFilesPerDir);
  CHECK(w.reads == kDirs * kFilesPerDir);
  INFO("gateway fds: " << idle_fds << " idle, at most " << w.max_fds << " during the walk; limit " << limit);
  CHECK(w.max_fds < limit / 2);
  // A second pass re-opens evicted inodes from their handles.
  const Walk again = walk(v.home(ann) + "/web", worker);
  CHECK(again.max_fds < limit / 2);
  CHECK(v.process().worker() == worker);  // the same worker served it all
  CHECK(again.errors.empty());
  CHECK(again.reads == kDirs * kFilesPerDir);
  CHECK(v.process().log().find("Too many open files") == std::string::npos);
}
