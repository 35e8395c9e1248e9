// The quota's counting walk (fs::count_usage) on real folder trees: what
// counts and how much, what is never followed or entered, and that it stays
// within its descriptors at any depth. The mount test needs root (it mounts a
// tmpfs and bind mounts inside the tree), so it runs last: without root the
// binary exits 77 there (a failure under CI=true) after the other cases ran.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "fs/identity.hpp"
#include "fs/quota_scan.hpp"
#include "fs/unique_fd.hpp"
#include "support/catch.hpp"
#include "support/prerequisite.hpp"

using namespace gw::fs;
using gw::test::TempDir;
using gw::test::write_file;
namespace stdfs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

UniqueFd open_dir(const std::string& path, int flags = O_PATH) {
  const int fd = ::open(path.c_str(), flags | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  return UniqueFd(fd);
}

ScanResult count(const std::string& path) { return count_usage(open_dir(path).get()); }

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : stdfs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

void sized_file(const std::string& path, std::uint64_t size) {
  write_file(path, "");
  stdfs::resize_file(path, size);
}

// A mount made for one test, detached however the test ends.
struct Mounted {
  std::string path;
  Mounted(const char* source, const std::string& target, const char* type, unsigned long flags) : path(target) {
    REQUIRE(::mount(source, target.c_str(), type, flags, nullptr) == 0);
  }
  ~Mounted() { ::umount2(path.c_str(), MNT_DETACH); }
  Mounted(const Mounted&) = delete;
  Mounted& operator=(const Mounted&) = delete;
};

// The soft limit on descriptors, lowered for one scope.
struct FdLimit {
  struct rlimit old {};
  explicit FdLimit(rlim_t soft) {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
    struct rlimit now = old;
    now.rlim_cur = soft;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &now) == 0);
  }
  ~FdLimit() { ::setrlimit(RLIMIT_NOFILE, &old); }
  FdLimit(const FdLimit&) = delete;
  FdLimit& operator=(const FdLimit&) = delete;
};

}  // namespace

namespace Catch {
template <>
struct StringMaker<Usage> {
  static std::string convert(const Usage& u) {
    return "{" + std::to_string(u.bytes) + " bytes, " + std::to_string(u.files) + " files}";
  }
};
}  // namespace Catch

TEST_CASE("count_usage: every entry is one file, regular files add their size, folders none",
          "[fs][quota][scan]") {
  TempDir tmp;
  const std::string root = tmp / "vol";
  stdfs::create_directories(root + "/site/img");
  stdfs::create_directories(root + "/empty");
  write_file(root + "/index.html", "hello");                  // 5
  sized_file(root + "/site/page.html", 1000);                  // 1000
  sized_file(root + "/site/img/logo.png", 4096 * 3 + 1);       // 12289
  write_file(root + "/site/img/empty", "");                    // 0
  REQUIRE(::mkfifo((root + "/site/fifo").c_str(), 0600) == 0);  // an entry of 0 bytes

  const ScanResult r = count(root);
  CHECK(r.usage == Usage{5 + 1000 + 12289, 8});  // the folder itself not counted
  CHECK(r.unreadable == 0);
  CHECK(r.complete);

  SECTION("an empty folder holds nothing") { CHECK(count(root + "/empty").usage == Usage{0, 0}); }
  SECTION("a readable fd works as well as an O_PATH one, and its offset is left alone") {
    const UniqueFd fd = open_dir(root, O_RDONLY);
    CHECK(count_usage(fd.get()).usage == r.usage);
    char buf[4096];
    CHECK(::getdents64(fd.get(), buf, sizeof buf) > 0);  // still at the start
  }
}

TEST_CASE("count_usage: a sparse file counts its full length", "[fs][quota][scan]") {
  TempDir tmp;
  constexpr std::uint64_t kTiB = std::uint64_t{1} << 40;
  sized_file(tmp / "sparse", kTiB);
  CHECK(count(tmp / "").usage == Usage{kTiB, 1});
}

TEST_CASE("count_usage: a hard-linked file counts once, whatever its names", "[fs][quota][scan]") {
  TempDir tmp;
  const std::string root = tmp / "vol";
  stdfs::create_directories(root + "/a");
  stdfs::create_directories(root + "/b");
  sized_file(root + "/a/data", 700);
  stdfs::create_hard_link(root + "/a/data", root + "/b/data");
  stdfs::create_hard_link(root + "/a/data", root + "/a/again");
  // Another name outside the folder: the object is still counted once inside.
  sized_file(root + "/a/shared", 300);
  stdfs::create_hard_link(root + "/a/shared", tmp / "outside");
  CHECK(count(root).usage == Usage{700 + 300, 2 + 2});
}

TEST_CASE("count_usage: a symlink counts itself, never what it points to", "[fs][quota][scan]") {
  TempDir tmp;
  const std::string root = tmp / "vol";
  stdfs::create_directories(root);
  stdfs::create_directories(tmp / "elsewhere");
  sized_file(tmp / "elsewhere/big", std::uint64_t{1} << 30);
  const std::string to_file = tmp / "elsewhere/big";
  const std::string to_folder = tmp / "elsewhere";
  stdfs::create_symlink(to_file, root + "/file-link");
  stdfs::create_directory_symlink(to_folder, root + "/folder-link");
  const ScanResult r = count(root);
  CHECK(r.usage == Usage{to_file.size() + to_folder.size(), 2});  // a symlink's size is its target's length
  CHECK(r.unreadable == 0);
}

TEST_CASE("count_usage: nested folders are counted to the bottom", "[fs][quota][scan]") {
  TempDir tmp;
  const std::string root = tmp / "vol";
  std::string deep = root;
  for (int i = 0; i < 6; ++i) {
    deep += "/level" + std::to_string(i);
    stdfs::create_directories(deep);
    sized_file(deep + "/file", 10);
  }
  CHECK(count(root).usage == Usage{60, 12});
  CHECK(count(root + "/level0/level1").usage == Usage{50, 9});
}

TEST_CASE("count_usage: a folder it cannot read counts as an entry and is reported", "[fs][quota][scan]") {
  TempDir tmp;
  const std::string root = tmp / "vol";
  stdfs::create_directories(root + "/locked/inside");
  stdfs::create_directories(root + "/listable");
  sized_file(root + "/locked/secret", 5000);
  sized_file(root + "/listable/a", 100);
  sized_file(root + "/listable/b", 100);
  sized_file(root + "/open", 7);
  ::chmod(root.c_str(), 0755);
  ::chmod((root + "/locked").c_str(), 0);           // not even listed
  ::chmod((root + "/listable").c_str(), 0444);      // listed, not searchable: names but no sizes
  const UniqueFd fd = open_dir(root);
  const UniqueFd locked = open_dir(root + "/locked");
  {
    // Root reads everything: the walk runs as a uid that is not root.
    std::optional<AsIdentity> as;
    if (::geteuid() == 0) as.emplace(kNobody, kNobody);
    REQUIRE((!as || as->error() == 0));
    const ScanResult r = count_usage(fd.get());
    CHECK(r.usage == Usage{7, 5});  // open, locked, listable, listable/a, listable/b
    CHECK(r.unreadable == 2);
    CHECK(r.complete);
    const ScanResult none = count_usage(locked.get());
    CHECK(none.usage == Usage{0, 0});
    CHECK(none.unreadable == 1);
  }
  ::chmod((root + "/locked").c_str(), 0755);  // for the clean-up without root
  ::chmod((root + "/listable").c_str(), 0755);
}

TEST_CASE("count_usage: stops early when told to", "[fs][quota][scan]") {
  TempDir tmp;
  for (int d = 0; d < 10; ++d) {
    stdfs::create_directories(tmp / ("d" + std::to_string(d)));
    for (int i = 0; i < 10; ++i) write_file(tmp / ("d" + std::to_string(d) + "/f" + std::to_string(i)), "x");
  }
  std::atomic<bool> stopping{false};
  const ScanResult all = count_usage(open_dir(tmp / "").get(), &stopping);
  CHECK(all.complete);
  CHECK(all.usage == Usage{100, 110});
  stopping = true;
  const ScanResult stopped = count_usage(open_dir(tmp / "").get(), &stopping);
  CHECK_FALSE(stopped.complete);
  CHECK(stopped.usage.files < all.usage.files);
}

TEST_CASE("count_usage: any depth within kScanOpenFolders descriptors", "[fs][quota][scan]") {
  // A comb 300 folders deep: each level has a file, a leaf folder with a
  // file, and the next level. The walk enters a folder's subfolders in
  // listing order; where the next level comes first, it must come back to
  // a folder whose descriptor it closed on the way down, and still enter
  // the leaf. (Names differ per level and the leaves are made last, so
  // that happens on hashed listings (ext4) and in creation order (tmpfs).)
  // One descriptor per level would run out under the lowered limit and
  // leave folders unread.
  TempDir tmp;
  constexpr int kDepth = 300;
  static_assert(kScanOpenFolders + 4 < kDepth, "the limit must bite");
  std::vector<std::string> levels{tmp / "vol"};
  for (int i = 1; i <= kDepth; ++i) levels.push_back(levels.back() + "/n" + std::to_string(i));
  stdfs::create_directories(levels.back());
  for (int i = 0; i < kDepth; ++i) {
    const std::string leaf = levels[static_cast<std::size_t>(i)] + "/leaf" + std::to_string(i);
    stdfs::create_directories(leaf);
    sized_file(leaf + "/file", 2);
    sized_file(levels[static_cast<std::size_t>(i)] + "/file", 1);
  }
  const UniqueFd root = open_dir(tmp / "vol");
  const std::size_t before = open_fds();
  ScanResult r;
  {
    const FdLimit limit(before + kScanOpenFolders + 4);
    r = count_usage(root.get());
  }
  CHECK(r.unreadable == 0);
  CHECK(r.usage == Usage{3 * kDepth, 4 * kDepth});  // file, leaf, leaf/file, n per level
  CHECK(open_fds() == before);
}

TEST_CASE("count_usage: never enters a mount point, a bind mount of its own filesystem included",
          "[fs][quota][scan][root]") {
  gw::test::require_root();  // the last case: see the top of this file
  TempDir tmp;
  const std::string root = tmp / "vol";
  stdfs::create_directories(root + "/tmpfs");
  stdfs::create_directories(root + "/bound");
  stdfs::create_directories(root + "/real");
  sized_file(root + "/real/data", 100);
  sized_file(root + "/mount-target", 3);
  sized_file(tmp / "big-outside", 1 << 20);
  const Mounted fs("gw-quota-test", root + "/tmpfs", "tmpfs", 0);
  sized_file(root + "/tmpfs/inside", 1 << 20);
  const Mounted folder(root.c_str(), root + "/bound", nullptr, MS_BIND);  // the tree inside itself
  const std::string outside = tmp / "big-outside";
  const Mounted file(outside.c_str(), root + "/mount-target", nullptr, MS_BIND);
  const ScanResult r = count(root);
  // tmpfs, bound, real, real/data, mount-target: mount points count as
  // entries of 0 bytes, nothing below or behind them.
  CHECK(r.usage == Usage{100, 5});
  CHECK(r.unreadable == 0);
  // A mapped folder that is itself a mount point (a volume bind-mounted into
  // the gateway's container) is counted on its own filesystem.
  CHECK(count(root + "/tmpfs").usage == Usage{1 << 20, 1});
}
