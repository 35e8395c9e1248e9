// Quotas at the syscall level: each operation that can grow a limited
// folder against a small limit (EDQUOT, nothing published, usage exact after
// each step, as the worker reports it in <state-dir>/quota.json), df showing
// the limit, and the per-mapping umask. Real clients: tests/e2e; evasion
// attempts: tests/hostile.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <tuple>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

// One field of one folder in the worker's quota.json ("" if absent), e.g.
// quota_field("web", "bytes").
std::string quota_field(const std::string& folder, const std::string& key) {
  const std::string path = MountedView::state_dir() + "/quota.json";
  if (!exists(path)) return "";
  const std::string text = read_file(path);
  const auto at = text.find("\"folder\": \"" + folder + "\"");
  if (at == std::string::npos) return "";
  const auto end = text.find('}', at);
  const auto k = text.find("\"" + key + "\": ", at);
  if (k == std::string::npos || k > end) return "";
  const auto value = k + key.size() + 4;
  return text.substr(value, text.find_first_of(",\n}", value) - value);
}

// Waits (the file is rewritten at most once a second) until the field reads
// `want`; returns what it read last.
std::string wait_quota(const std::string& folder, const std::string& key, const std::string& want, double seconds = 5) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::string got;
  while ((got = quota_field(folder, key)) != want && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return got;
}

// Writes `size` bytes at `offset` of `path` (opened with `flags`) in chunks
// of `chunk`; the outcome of the first failure, else "ok".
std::string write_bytes(const std::string& path, std::size_t size, int flags = O_WRONLY | O_CREAT, off_t offset = 0,
                        std::size_t chunk = 65536) {
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return errno_name(errno);
  const std::string block(chunk, 'q');
  std::string result = "ok";
  for (std::size_t done = 0; done < size && result == "ok";) {
    const std::size_t n = std::min(chunk, size - done);
    const ssize_t w = ::pwrite(fd, block.data(), n, offset + static_cast<off_t>(done));
    if (w < 0) result = errno_name(errno);
    else done += static_cast<std::size_t>(w);
  }
  if (::close(fd) != 0 && result == "ok") result = errno_name(errno);
  return result;
}

std::string errno_of(int rc) { return rc == 0 ? "ok" : errno_name(errno); }

// The names in a backing folder once an ended upload's release (which the
// kernel sends after close returned) has removed its temporary.
std::vector<std::string> settled_names(const std::string& dir, const std::vector<std::string>& want) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::vector<std::string> got;
  while ((got = names_in(dir)) != want && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return got;
}

constexpr std::size_t KiB = 1024;

}  // namespace

TEST_CASE("writes stop at the limit with EDQUOT; usage is exact after each step", "[quota]") {
  MountedView v;
  const Folders f = start_web(v, ":quota=256K:noatomic");
  REQUIRE(wait_quota("web", "counted", "true") == "true");
  CHECK(quota_field("web", "bytes_limit") == std::to_string(256 * KiB));
  CHECK(write_bytes(f.view + "/a", 100 * KiB) == "ok");
  CHECK(wait_quota("web", "bytes", std::to_string(100 * KiB)) == std::to_string(100 * KiB));
  CHECK(wait_quota("web", "files", "1") == "1");
  // Past the limit: the write that would pass it fails, what fits stays.
  CHECK(write_bytes(f.view + "/b", 200 * KiB) == "EDQUOT");
  CHECK(lstat_of(f.backing + "/b").st_size == 128 * KiB);  // two 64 KiB writes fit, the third did not
  CHECK(wait_quota("web", "bytes", std::to_string(228 * KiB)) == std::to_string(228 * KiB));
  // Rewriting inside a file grows nothing.
  CHECK(write_bytes(f.view + "/a", 100 * KiB, O_WRONLY) == "ok");
  // Truncating frees, unlinking frees the rest and the entry.
  REQUIRE(::truncate((f.view + "/b").c_str(), 28 * KiB) == 0);
  CHECK(wait_quota("web", "bytes", std::to_string(128 * KiB)) == std::to_string(128 * KiB));
  REQUIRE(::unlink((f.view + "/a").c_str()) == 0);
  CHECK(wait_quota("web", "bytes", std::to_string(28 * KiB)) == std::to_string(28 * KiB));
  CHECK(wait_quota("web", "files", "1") == "1");
  // O_TRUNC in place frees what the file held.
  CHECK(write_bytes(f.view + "/b", 0, O_WRONLY | O_TRUNC) == "ok");
  CHECK(wait_quota("web", "bytes", "0") == "0");
  // The refusal is audited with its reason.
  CHECK(v.process().log().find("\"reason\":\"quota\"") != std::string::npos);
}

TEST_CASE("a sparse truncate or fallocate past the limit is refused; st_size is what counts", "[quota]") {
  MountedView v;
  const Folders f = start_web(v, ":quota=1M");
  REQUIRE(wait_quota("web", "counted", "true") == "true");
  write_file(f.backing + "/seed", "", kVolumeOwner, kVolumeOwner);
  // Behind the gateway: picked up by a reload's count.
  v.process().signal(SIGHUP);
  CHECK(wait_quota("web", "files", "1") == "1");
  const std::string file = f.view + "/seed";
  CHECK(errno_of(::truncate(file.c_str(), 1L << 40)) == "EDQUOT");
  CHECK(lstat_of(f.backing + "/seed").st_size == 0);
  CHECK(errno_of(::truncate(file.c_str(), 512 * KiB)) == "ok");  // sparse: counts 512 KiB all the same
  CHECK(wait_quota("web", "bytes", std::to_string(512 * KiB)) == std::to_string(512 * KiB));
  const int fd = ::open(file.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  CHECK(errno_of(::fallocate(fd, 0, 0, 2 * 1024 * KiB)) == "EDQUOT");
  // Space kept beyond the end of a file is not in st_size: never in a limited folder.
  CHECK(errno_of(::fallocate(fd, FALLOC_FL_KEEP_SIZE, 512 * KiB, 256 * KiB)) == "EDQUOT");
  CHECK(errno_of(::fallocate(fd, 0, 0, 768 * KiB)) == "ok");
  CHECK(errno_of(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 64 * KiB)) == "ok");
  ::close(fd);
  CHECK(lstat_of(f.backing + "/seed").st_size == static_cast<off_t>(768 * KiB));
  CHECK(wait_quota("web", "bytes", std::to_string(768 * KiB)) == std::to_string(768 * KiB));
}

TEST_CASE("a file limit counts files, folders and symlinks; hard links count once", "[quota]") {
  MountedView v;
  const Folders f = start_web(v, ":files=3:quota=64K:symlinks:noatomic");
  REQUIRE(wait_quota("web", "counted", "true") == "true");
  CHECK(write_bytes(f.view + "/one", 10 * KiB) == "ok");
  CHECK(errno_of(::link((f.view + "/one").c_str(), (f.view + "/two").c_str())) == "ok");
  CHECK(wait_quota("web", "files", "1") == "1");
  CHECK(wait_quota("web", "bytes", std::to_string(10 * KiB)) == std::to_string(10 * KiB));
  CHECK(errno_of(::mkdir((f.view + "/d").c_str(), 0755)) == "ok");
  CHECK(errno_of(::symlink("one", (f.view + "/d/s").c_str())) == "ok");
  CHECK(wait_quota("web", "files", "3") == "3");
  CHECK(wait_quota("web", "bytes", std::to_string(10 * KiB + 3)) == std::to_string(10 * KiB + 3));
  CHECK(write_bytes(f.view + "/four", 1) == "EDQUOT");
  CHECK(errno_of(::mkdir((f.view + "/d2").c_str(), 0755)) == "EDQUOT");
  CHECK_FALSE(exists(f.backing + "/four"));
  CHECK_FALSE(exists(f.backing + "/d2"));
  // One name of two goes: the file still counts; the last one frees it.
  REQUIRE(::unlink((f.view + "/one").c_str()) == 0);
  CHECK(wait_quota("web", "files", "3") == "3");
  REQUIRE(::unlink((f.view + "/two").c_str()) == 0);
  CHECK(wait_quota("web", "files", "2") == "2");
  CHECK(wait_quota("web", "bytes", "3") == "3");
  REQUIRE(::unlink((f.view + "/d/s").c_str()) == 0);
  REQUIRE(::rmdir((f.view + "/d").c_str()) == 0);
  CHECK(wait_quota("web", "files", "0") == "0");
}

TEST_CASE("an atomic upload that hits the limit is discarded, never published", "[quota]") {
  MountedView v;
  const Folders f = start_web(v, ":quota=128K");
  REQUIRE(wait_quota("web", "counted", "true") == "true");
  CHECK(write_bytes(f.view + "/big", 300 * KiB) == "EDQUOT");
  CHECK(settled_names(f.backing, {}).empty());  // neither the final name nor a temporary
  CHECK(wait_quota("web", "bytes", "0") == "0");
  CHECK(wait_quota("web", "files", "0") == "0");
  // An overwrite counts the old and the new file while it runs, the new
  // one only once published.
  CHECK(write_bytes(f.view + "/site", 60 * KiB) == "ok");
  CHECK(write_bytes(f.view + "/site", 50 * KiB, O_WRONLY | O_TRUNC) == "ok");
  CHECK(lstat_of(f.backing + "/site").st_size == static_cast<off_t>(50 * KiB));
  CHECK(wait_quota("web", "bytes", std::to_string(50 * KiB)) == std::to_string(50 * KiB));
  CHECK(wait_quota("web", "files", "1") == "1");
  // Old (50) + new (100) would pass 128 KiB while it runs: refused, the old file kept whole.
  CHECK(write_bytes(f.view + "/site", 100 * KiB, O_WRONLY | O_TRUNC) == "EDQUOT");
  CHECK(lstat_of(f.backing + "/site").st_size == static_cast<off_t>(50 * KiB));
  CHECK(settled_names(f.backing, {"site"}) == std::vector<std::string>{"site"});
  CHECK(wait_quota("web", "bytes", std::to_string(50 * KiB)) == std::to_string(50 * KiB));
}

TEST_CASE("several writers at once never pass the limit", "[quota]") {
  MountedView v;
  const Folders f = start_web(v, ":quota=2M:noatomic");
  REQUIRE(wait_quota("web", "counted", "true") == "true");
  std::vector<pid_t> writers;
  for (int i = 0; i < 4; ++i) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(write_bytes(f.view + "/w" + std::to_string(i), 4 * 1024 * KiB, O_WRONLY | O_CREAT, 0, 32 * KiB) == "EDQUOT" ? 0 : 1);
    writers.push_back(pid);
  }
  for (const pid_t pid : writers) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  off_t total = 0;
  for (const auto& name : names_in(f.backing)) total += lstat_of(f.backing + "/" + name).st_size;
  CHECK(total <= static_cast<off_t>(2 * 1024 * KiB));
  CHECK(total > static_cast<off_t>(2 * 1024 * KiB - 4 * 32 * KiB));  // each stopped within one of its writes
  CHECK(wait_quota("web", "bytes", std::to_string(total)) == std::to_string(total));
}

TEST_CASE("df shows the limit of the folder asked about, capped by the disk", "[quota]") {
  MountedView v;
  const Folders f = start_web(v, ":quota=4M:files=1000:noatomic");
  REQUIRE(wait_quota("web", "counted", "true") == "true");
  CHECK(write_bytes(f.view + "/one", 1024 * KiB) == "ok");
  struct statvfs st {};
  REQUIRE(::statvfs(f.view.c_str(), &st) == 0);
  CHECK(st.f_blocks * st.f_frsize == 4 * 1024 * KiB);
  CHECK(st.f_bavail * st.f_frsize == 3 * 1024 * KiB);
  CHECK(st.f_files == 1000);
  CHECK(st.f_favail == 999);
  // The home has no limit: the disk, as before.
  struct statvfs home {};
  struct statvfs disk {};
  REQUIRE(::statvfs(v.home(ann).c_str(), &home) == 0);
  REQUIRE(::statvfs(v.backing_home(ann).c_str(), &disk) == 0);
  CHECK(home.f_blocks == disk.f_blocks);
}

TEST_CASE("nested limits both apply, and nothing moves between them by rename or link", "[quota]") {
  MountedView v;
  v.add_volume("web");
  make_dir(v.volume("web") + "/sub", kVolumeOwner, kVolumeOwner, 0755);
  v.start(ViewSpec{{ann}, {"web:ann:all:quota=1M:noatomic", "web/sub:ann:sub:quota=256K:noatomic"}});
  REQUIRE(wait_quota("web", "counted", "true") == "true");
  REQUIRE(wait_quota("web/sub", "counted", "true") == "true");
  const std::string all = v.home(ann) + "/all";
  // Through the outer mapping into the inner folder: the inner limit applies.
  CHECK(write_bytes(all + "/sub/x", 300 * KiB) == "EDQUOT");
  CHECK(wait_quota("web/sub", "bytes", std::to_string(256 * KiB)) == std::to_string(256 * KiB));
  CHECK(wait_quota("web", "bytes", std::to_string(256 * KiB)) == std::to_string(256 * KiB));
  REQUIRE(::unlink((all + "/sub/x").c_str()) == 0);
  CHECK(write_bytes(all + "/y", 900 * KiB) == "ok");
  // Through the inner mapping: the outer limit applies too (124 KiB left
  // of it, 256 KiB of the inner one).
  CHECK(write_bytes(v.home(ann) + "/sub/z", 200 * KiB) == "EDQUOT");
  CHECK(lstat_of(v.volume("web") + "/sub/z").st_size == static_cast<off_t>(64 * KiB));
  CHECK(wait_quota("web", "bytes", std::to_string(964 * KiB)) == std::to_string(964 * KiB));
  CHECK(wait_quota("web/sub", "bytes", std::to_string(64 * KiB)) == std::to_string(64 * KiB));
  REQUIRE(::unlink((v.home(ann) + "/sub/z").c_str()) == 0);
  // Moving a file into the inner limit would take it past it unseen.
  CHECK(errno_of(::rename((all + "/y").c_str(), (all + "/sub/y").c_str())) == "EXDEV");
  CHECK(errno_of(::link((all + "/y").c_str(), (all + "/sub/y").c_str())) == "EXDEV");
  CHECK(errno_of(::mkdir((all + "/d").c_str(), 0755)) == "ok");
  CHECK(errno_of(::rename((all + "/y").c_str(), (all + "/d/y").c_str())) == "ok");  // within one limit: fine
}

TEST_CASE("a home's limit comes from the user or --home-quota", "[quota]") {
  MountedView v;
  v.add_volume("web");
  std::vector<std::string> args = v.args(ViewSpec{{ann}, {"web:ann:web"}, {"--home-files", "10"}});
  *(std::find(args.begin(), args.end(), "--users") + 1) = ann.spec() + ":quota=64K";
  GatewayProcess gateway(args, v.log_path());
  REQUIRE(gateway.wait_mounted(v.mountpoint()) == "");
  REQUIRE(wait_quota("~ann", "counted", "true") == "true");
  CHECK(quota_field("~ann", "bytes_limit") == std::to_string(64 * KiB));
  CHECK(quota_field("~ann", "files_limit") == "10");
  CHECK(write_bytes(v.home(ann) + "/h", 100 * KiB) == "EDQUOT");
  CHECK(lstat_of(v.backing_home(ann) + "/h").st_size == static_cast<off_t>(64 * KiB));  // homes write in place
  CHECK(write_bytes(v.home(ann) + "/web/v", 100 * KiB) == "ok");  // the volume is not the home
  gateway.signal(SIGTERM);
  CHECK(gateway.wait_exit(5) == 0);
}

TEST_CASE("what is written behind the gateway's back is counted by the periodic rescan", "[quota]") {
  MountedView v;
  const Folders f = start_web(v, ":quota=1M", {"--quota-rescan", "1"});
  REQUIRE(wait_quota("web", "counted", "true") == "true");
  write_file(f.backing + "/consumer", std::string(900 * KiB, 'c'), kVolumeOwner, kVolumeOwner);
  CHECK(wait_quota("web", "bytes", std::to_string(900 * KiB)) == std::to_string(900 * KiB));
  CHECK(write_bytes(f.view + "/more", 200 * KiB) == "EDQUOT");
}

TEST_CASE("new files and folders get the mapping's umask, 0022 by default", "[quota]") {
  MountedView v;
  v.add_volume("web");
  v.add_volume("shared");
  v.start(ViewSpec{{ann}, {"web:ann:web", "shared:ann:shared:umask=0002", "web:ann:private:umask=0027"}});
  for (const auto& [mount, file_mode, dir_mode] :
       std::vector<std::tuple<std::string, mode_t, mode_t>>{{"web", 0644, 0755}, {"shared", 0664, 0775},
                                                             {"private", 0640, 0750}}) {
    INFO(mount);
    const std::string dir = v.home(ann) + "/" + mount;
    CHECK(call_as(ann.who(), [&] {
            ::umask(0);
            const int fd = ::open((dir + "/f-" + mount).c_str(), O_CREAT | O_WRONLY, 0666);
            if (fd >= 0) ::close(fd);
            return static_cast<long>(fd < 0 ? -1 : ::mkdir((dir + "/d-" + mount).c_str(), 0777));
          }).str() == "ok");
    CHECK((lstat_of(dir + "/f-" + mount).st_mode & 07777) == file_mode);
    CHECK((lstat_of(dir + "/d-" + mount).st_mode & 07777) == dir_mode);
  }
}
