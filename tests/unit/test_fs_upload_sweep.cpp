// The sweep of temporaries a dead worker left: which files count as left
// behind (pure rules), and the walk itself on a real folder tree (no root:
// the test's own uid plays the stored owner, the caller of sweep_tree
// switches identity in the gateway).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_support.hpp"
#include "fs/upload.hpp"
#include "fs/upload_sweep.hpp"
#include "support/catch.hpp"

using namespace gw::fs;
using gw::test::TempDir;
using gw::test::write_file;
namespace stdfs = std::filesystem;

namespace {

struct timespec at(time_t sec, long nsec) { return timespec{sec, nsec}; }

struct timespec now_coarse() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return ts;
}

struct stat regular(uid_t uid, struct timespec ctime) {
  struct stat st {};
  st.st_mode = S_IFREG | 0644;
  st.st_uid = uid;
  st.st_ctim = ctime;
  return st;
}

UniqueFd open_dir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  return UniqueFd(fd);
}

dev_t dev_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_dev;
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : stdfs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

const std::string kStale = ".gw-upload-00112233445566aa";

}  // namespace

TEST_CASE("changed before the start: to the nanosecond, or by the second where the filesystem keeps seconds",
          "[fs][upload][sweep]") {
  const auto started = at(1000, 500);
  CHECK(changed_before(at(999, 999999999), started));
  CHECK(changed_before(at(1000, 499), started));
  CHECK_FALSE(changed_before(at(1000, 500), started));
  CHECK_FALSE(changed_before(at(1000, 501), started));
  CHECK_FALSE(changed_before(at(1001, 1), started));
  // Whole seconds (nanoseconds 0): a file made at 1000.7 shows 1000.0, which
  // must not count as before a start at 1000.5.
  CHECK_FALSE(changed_before(at(1000, 0), started));
  CHECK(changed_before(at(999, 0), started));
}

TEST_CASE("left behind: a regular file of the stored owner, changed before the start", "[fs][upload][sweep]") {
  const auto started = at(1000, 500);
  CHECK(left_by_dead_worker(regular(54321, at(999, 1)), 54321, started));
  CHECK_FALSE(left_by_dead_worker(regular(54321, at(1000, 600)), 54321, started));  // may be in progress
  CHECK_FALSE(left_by_dead_worker(regular(4242, at(999, 1)), 54321, started));      // not the gateway's
  struct stat link = regular(54321, at(999, 1));
  link.st_mode = S_IFLNK | 0777;
  CHECK_FALSE(left_by_dead_worker(link, 54321, started));
  struct stat dir = regular(54321, at(999, 1));
  dir.st_mode = S_IFDIR | 0755;
  CHECK_FALSE(left_by_dead_worker(dir, 54321, started));
}

TEST_CASE("the sweep removes dead temporaries through the whole tree and nothing else", "[fs][upload][sweep]") {
  TempDir tmp;
  const std::string root = tmp / "volume";
  const std::string outside = tmp / "outside";
  stdfs::create_directories(root + "/a/b/c");
  stdfs::create_directories(outside);
  stdfs::create_directories(root + "/.gw-upload-folder");
  // Left by a dead worker, at the top and deep down.
  write_file(root + "/" + kStale, "partial");
  write_file(root + "/a/b/c/" + kStale, "partial");
  // An upload of this worker, as old as the dead ones: live, kept.
  const std::string live = ".gw-upload-99aabbccddeeff00";
  write_file(root + "/a/" + live, "mine");
  // Not the gateway's to remove: ordinary files, a symlink with a
  // temporary's name, whatever is behind a symlinked folder, and inside a
  // folder with a temporary's name (the view never enters one).
  write_file(root + "/a/site.html", "site");
  write_file(outside + "/" + kStale, "outside");
  stdfs::create_symlink(outside, root + "/a/linked");
  stdfs::create_symlink("/etc/hostname", root + "/.gw-upload-0000000000000001");
  write_file(root + "/.gw-upload-folder/" + kStale, "inside");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const struct timespec started = now_coarse();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Since this worker started: may be an upload in progress elsewhere, kept.
  const std::string fresh = ".gw-upload-0123456789abcdef";
  write_file(root + "/a/b/" + fresh, "in progress");

  const std::size_t fds = open_fds();
  std::vector<std::string> removed;
  const SweepRule rule{dev_of(root), ::geteuid(), started, [&](std::string_view n) { return n == live; }};
  const SweepCount n = sweep_tree(open_dir(root), rule, [&](const std::string& p) { removed.push_back(p); });
  CHECK(open_fds() == fds);  // every folder it opened is closed
  std::sort(removed.begin(), removed.end());
  CHECK(removed == std::vector<std::string>{kStale, "a/b/c/" + kStale});
  CHECK(n.removed == 2);
  CHECK(n.folders == 4);  // the root, a, a/b, a/b/c
  CHECK(n.too_deep == 0);
  CHECK_FALSE(stdfs::exists(root + "/" + kStale));
  CHECK_FALSE(stdfs::exists(root + "/a/b/c/" + kStale));
  CHECK(stdfs::exists(root + "/a/" + live));
  CHECK(stdfs::exists(root + "/a/b/" + fresh));
  CHECK(stdfs::exists(root + "/a/site.html"));
  CHECK(stdfs::exists(outside + "/" + kStale));
  CHECK(stdfs::is_symlink(root + "/.gw-upload-0000000000000001"));
  CHECK(stdfs::exists(root + "/.gw-upload-folder/" + kStale));
}

TEST_CASE("the sweep leaves another owner's temporaries alone", "[fs][upload][sweep]") {
  TempDir tmp;
  write_file(tmp / kStale, "theirs");
  const SweepRule rule{dev_of(tmp / ""), ::geteuid() + 1, at(now_coarse().tv_sec + 60, 0), nullptr};
  const SweepCount n = sweep_tree(open_dir(tmp / ""), rule, [](const std::string&) {});
  CHECK(n.removed == 0);
  CHECK(stdfs::exists(tmp / kStale));
}

TEST_CASE("the sweep goes at most kSweepDepth folders deep", "[fs][upload][sweep]") {
  TempDir tmp;
  std::string deepest = tmp / "";
  for (std::size_t i = 0; i <= kSweepDepth + 1; ++i) deepest += "/d";
  stdfs::create_directories(deepest);
  write_file(deepest + "/" + kStale, "too deep");
  std::string within = tmp / "";
  for (std::size_t i = 0; i < kSweepDepth; ++i) within += "/d";
  write_file(within + "/" + kStale, "deep but within");
  const SweepRule rule{dev_of(tmp / ""), ::geteuid(), at(now_coarse().tv_sec + 60, 0), nullptr};
  const SweepCount n = sweep_tree(open_dir(tmp / ""), rule, [](const std::string&) {});
  CHECK(n.removed == 1);
  CHECK(n.too_deep == 1);
  CHECK_FALSE(stdfs::exists(within + "/" + kStale));
  CHECK(stdfs::exists(deepest + "/" + kStale));
}

TEST_CASE("the sweep of a 10,000-file tree is cheap", "[fs][upload][sweep]") {
  TempDir tmp;
  constexpr int kFolders = 100;
  constexpr int kFiles = 100;  // per folder
  for (int d = 0; d < kFolders; ++d) {
    const std::string folder = tmp / ("f" + std::to_string(d));
    stdfs::create_directories(folder);
    for (int i = 0; i < kFiles; ++i) write_file(folder + "/file" + std::to_string(i), "x");
    if (d % 10 == 0) write_file(folder + "/" + kStale, "partial");
  }
  const SweepRule rule{dev_of(tmp / ""), ::geteuid(), at(now_coarse().tv_sec + 60, 0), nullptr};
  const auto start = std::chrono::steady_clock::now();
  const SweepCount n = sweep_tree(open_dir(tmp / ""), rule, [](const std::string&) {});
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("sweep of %d files in %d folders (warm cache): %.1f ms, %zu removed\n", kFolders * kFiles, kFolders, ms,
              n.removed);
  CHECK(n.removed == 10);
  CHECK(n.folders == kFolders + 1);
  CHECK(ms < 2000);  // a bound against a runaway walk, not a benchmark: the time is printed
}

TEST_CASE("another instance's temporaries (a replica's) stay until unchanged for a day", "[fs][upload][sweep]") {
  TempDir tmp;
  const std::string root = tmp / "volume";
  stdfs::create_directories(root);
  const std::string own = ".gw-upload-0badc0de-0011223344556677";
  const std::string replicas = ".gw-upload-12345678-0011223344556677";
  const std::string untagged = ".gw-upload-0011223344556677";  // a gateway without tags
  for (const std::string& name : {own, replicas, untagged}) write_file(root + "/" + name, "partial");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto is_own = [](std::string_view n) { return n.starts_with(".gw-upload-0badc0de-"); };
  // This instance started after all three were last written: a replica's
  // upload may still be going on (its client paused), only its own is dead.
  SweepRule rule{dev_of(root), ::geteuid(), now_coarse(), nullptr, is_own};
  std::vector<std::string> removed;
  sweep_tree(open_dir(root), rule, [&](const std::string& p) { removed.push_back(p); });
  CHECK(removed == std::vector<std::string>{own});
  // A start more than kForeignStale later: the others are dead too.
  rule.started.tv_sec += gw::fs::kForeignStale + 1;
  removed.clear();
  sweep_tree(open_dir(root), rule, [&](const std::string& p) { removed.push_back(p); });
  std::sort(removed.begin(), removed.end());
  CHECK(removed == std::vector<std::string>{untagged, replicas});
}
