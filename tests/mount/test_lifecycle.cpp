// Lifecycle of a running gateway: clean unmount on SIGTERM and SIGINT, a
// crashed gateway's dead mount replaced by the next start, and the
// supervisor replacing a worker that died or hung.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

// Polls `ok` every 20 ms for up to `seconds`; true once it held.
template <class Pred>
bool eventually(double seconds, Pred ok) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ok();
}

// Reads a file through the view in a child, so a hung view fails the test
// (the child's alarm) instead of hanging it.
std::string read_in_child(const std::string& path, unsigned timeout_s = 10) {
  return run_as(root_user(), [&] {
    try {
      return read_file(path);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  }, timeout_s);
}

// Every file under `dir` (read as root through the view) with its content.
std::map<std::string, std::string> files_below(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().string().substr(dir.size())] = read_file(e.path());
  return out;
}

// One line of the worker's runtime file (<state-dir>/runtime), e.g. "reloads".
std::string runtime_value(const std::string& state_dir, const std::string& key) {
  const std::string text = read_file(state_dir + "/runtime");
  const auto at = text.find(key + "=");
  if (at == std::string::npos) return "";
  const auto end = text.find('\n', at);
  return text.substr(at + key.size() + 1, end - at - key.size() - 1);
}

// A valid public key (its private half was thrown away).
const char* const kSomeKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPGM4QHmJcezdKQe5vt/qaZOizYQVgWhIdhLkgAG7qFA added\n";

}  // namespace

TEST_CASE("a refused reload changes nothing: etc/ files, keys served, homes", "[lifecycle]") {
  MountedView v;
  v.add_volume("web");
  // Its own state folder (this test adds a key), with the run's host keys
  // if an earlier test made them (else the gateway makes its own).
  const TempTree state;
  make_dir(state / "host_keys", 0, 0, 0700);
  for (const std::string key : {"ssh_host_ed25519_key", "ssh_host_rsa_key"}) {
    const std::string made = MountedView::state_dir() + "/host_keys/" + key;
    if (exists(made)) write_file(state / ("host_keys/" + key), read_file(made), 0, 0, 0600);
  }
  const std::string config = v.tree() / "gateway.conf";
  write_file(config, "users = ann:61000:61000\nmap = web:ann:web\n");
  // Users from the file (none on the command line), no kernel caching: what
  // is read is what the view serves now.
  std::vector<std::string> args = v.args(ViewSpec{{ann}, {}, {"--config", config, "--cache-timeout", "0"}});
  const auto users = std::find(args.begin(), args.end(), "--users");
  args.erase(users, users + 2);
  *(std::find(args.begin(), args.end(), "--state-dir") + 1) = state.path();
  GatewayProcess gateway(args, v.log_path());
  REQUIRE(gateway.wait_mounted(v.mountpoint()) == "");
  const std::string etc = v.mountpoint() + "/etc";
  const auto served = files_below(etc);
  REQUIRE(served.count("/passwd") == 1);
  REQUIRE(served.count("/ssh/authorized_keys/ann") == 1);

  // bob with a mapping of a volume that does not exist: refused. Then a
  // key for ann, while the configuration is still the refused one: refused
  // again (a reload takes the configuration and the keys together).
  write_file(config + ".new", "users = ann:61000:61000,bob:61001:61001\nmap = web:ann:web\nmap = missing:bob:stuff\n");
  REQUIRE(::rename((config + ".new").c_str(), config.c_str()) == 0);
  const auto refused = [&](const std::string& count) {
    return eventually(10, [&] {
      return runtime_value(state.path(), "reloads") == count && runtime_value(state.path(), "last_reload") != "ok";
    });
  };
  REQUIRE(refused("1"));
  write_file(state / "authorized_keys/ann.new", kSomeKey);
  REQUIRE(::rename((state / "authorized_keys/ann.new").c_str(), (state / "authorized_keys/ann").c_str()) == 0);
  REQUIRE(refused("2"));
  INFO(gateway.log());
  const auto after = files_below(etc);
  for (const auto& [path, content] : served) {
    INFO(path);
    CHECK(after.count(path) == 1);
    CHECK((after.count(path) ? after.at(path) : "") == content);
  }
  CHECK(after.size() == served.size());
  CHECK_FALSE(exists(v.backing_home(bob)));
  CHECK(names_in(v.mountpoint() + "/data") == std::vector<std::string>{"ann-chroot"});

  // Unrestricted: without the missing volume the same changes are served.
  write_file(config + ".new", "users = ann:61000:61000,bob:61001:61001\nmap = web:ann:web\n");
  REQUIRE(::rename((config + ".new").c_str(), config.c_str()) == 0);
  REQUIRE(eventually(10, [&] { return runtime_value(state.path(), "last_reload") == "ok"; }));
  const auto now = files_below(etc);
  CHECK(now.at("/passwd").find("bob:") != std::string::npos);
  CHECK(now.at("/ssh/authorized_keys/ann").find("added") != std::string::npos);
  CHECK(S_ISDIR(lstat_of(v.backing_home(bob)).st_mode));
  gateway.signal(SIGTERM);
  CHECK(gateway.wait_exit(5) == 0);
}

// A reload whose file changed only in `users` and `map` lines is applied to
// just those users, in place (fs/layout_edit.hpp). What it serves must be
// what a start from the new file serves, byte for byte in etc/, while the
// users it did not name keep their trees (the same inodes, so sessions and
// the kernel's cache of them go on).
TEST_CASE("a reload that adds, changes and removes users serves what a fresh start would", "[lifecycle]") {
  MountedView v;
  v.add_volume("web");
  v.add_volume("music");
  const TempTree state;
  make_dir(state / "host_keys", 0, 0, 0700);
  for (const std::string key : {"ssh_host_ed25519_key", "ssh_host_rsa_key"}) {
    const std::string made = MountedView::state_dir() + "/host_keys/" + key;
    if (exists(made)) write_file(state / ("host_keys/" + key), read_file(made), 0, 0, 0600);
  }
  make_dir(state / "authorized_keys", 0, 0, 0700);
  write_file(state / "authorized_keys/cid", kSomeKey);
  const TestUser cid{"cid", 61002, 61500};
  const std::string config = v.tree() / "gateway.conf";
  write_file(config,
             "port = 2000\nusers = ann:61000:61000\nusers = bob:61001:61001\nmap = web:ann:web\nmap = music:bob:music\n"
             "map = music:ann:music\n");
  std::vector<std::string> args = v.args(ViewSpec{{ann}, {}, {"--config", config, "--cache-timeout", "0"}});
  const auto users = std::find(args.begin(), args.end(), "--users");
  args.erase(users, users + 2);
  *(std::find(args.begin(), args.end(), "--state-dir") + 1) = state.path();
  auto gateway = std::make_unique<GatewayProcess>(args, v.log_path());
  REQUIRE(gateway->wait_mounted(v.mountpoint()) == "");
  const std::string data = v.mountpoint() + "/data";
  const ino_t ann_chroot = lstat_of(data + "/ann-chroot").st_ino;
  const ino_t ann_web = lstat_of(v.home(ann) + "/web").st_ino;
  REQUIRE(call_as(ann.who(), [&] { return ::mkdir((v.home(ann) + "/music/kept").c_str(), 0755); }).ok());

  // bob and his rule go; cid comes, read-only on web, between the two users
  // lines' places; ann's music becomes read-only.
  write_file(config + ".new",
             "port = 2000\nusers = ann:61000:61000\nusers = cid:61002:61500\nmap = web:ann:web\n"
             "map = music:ann:music:ro\nmap = web:cid:site:ro\n");
  REQUIRE(::rename((config + ".new").c_str(), config.c_str()) == 0);
  REQUIRE(eventually(10, [&] { return runtime_value(state.path(), "reloads") == "1"; }));
  INFO(gateway->log());
  REQUIRE(runtime_value(state.path(), "last_reload") == "ok");
  CHECK(gateway->log().find("reload changed 2 user(s) and removed 1, the others untouched") != std::string::npos);

  CHECK(names_in(data) == std::vector<std::string>{"ann-chroot", "cid-chroot"});
  CHECK(lstat_of(data + "/ann-chroot").st_ino != ann_chroot);  // ann's plan changed: a new chroot...
  CHECK(lstat_of(v.home(ann) + "/web").st_ino == ann_web);     // ...with the unchanged mapping kept
  CHECK(call_as(ann.who(), [&] { return ::mkdir((v.home(ann) + "/music/new").c_str(), 0755); }).err == EROFS);
  CHECK(exists(v.home(ann) + "/music/kept"));
  CHECK(call_as(cid.who(), [&] { return ::mkdir((v.home(cid) + "/site/x").c_str(), 0755); }).err == EROFS);
  CHECK(call_as(cid.who(), [&] { return ::mkdir((v.home(cid) + "/mine").c_str(), 0755); }).ok());
  CHECK(lstat_of(v.backing_home(cid)).st_uid == cid.uid);
  const int gone = ::access((data + "/bob-chroot").c_str(), F_OK);
  CHECK((gone == -1 && errno == ENOENT));
  const auto edited = files_below(v.mountpoint() + "/etc");
  CHECK(edited.count("/ssh/authorized_keys/bob") == 0);
  CHECK(edited.at("/ssh/authorized_keys/cid") == kSomeKey);

  // Another edit, in the middle of the file: bob comes back between ann and
  // cid (etc/passwd lists users in the file's order), and ann's chroot stays.
  const ino_t ann_now = lstat_of(data + "/ann-chroot").st_ino;
  write_file(config + ".new",
             "port = 2000\nusers = ann:61000:61000\nusers = bob:61001:61001\nmap = music:bob:music\n"
             "users = cid:61002:61500\nmap = web:ann:web\nmap = music:ann:music:ro\nmap = web:cid:site:ro\n");
  REQUIRE(::rename((config + ".new").c_str(), config.c_str()) == 0);
  REQUIRE(eventually(10, [&] { return runtime_value(state.path(), "reloads") == "2"; }));
  REQUIRE(runtime_value(state.path(), "last_reload") == "ok");
  CHECK(gateway->log().find("reload changed 1 user(s) and removed 0") != std::string::npos);
  CHECK(lstat_of(data + "/ann-chroot").st_ino == ann_now);
  CHECK(names_in(data) == std::vector<std::string>{"ann-chroot", "bob-chroot", "cid-chroot"});
  const auto edited_again = files_below(v.mountpoint() + "/etc");

  // A start from the same file serves the same etc/.
  gateway->signal(SIGTERM);
  REQUIRE(gateway->wait_exit(5) == 0);
  gateway = std::make_unique<GatewayProcess>(args, v.log_path());
  REQUIRE(gateway->wait_mounted(v.mountpoint()) == "");
  const auto fresh = files_below(v.mountpoint() + "/etc");
  CHECK(fresh == edited_again);
  gateway->signal(SIGTERM);
  CHECK(gateway->wait_exit(5) == 0);
}

TEST_CASE("SIGTERM and SIGINT unmount the view cleanly", "[lifecycle]") {
  for (const int sig : {SIGTERM, SIGINT}) {
    INFO("signal " << sig);
    MountedView v;
    const Folders f = start_web(v);
    write_file(f.backing + "/a", "a", kVolumeOwner, kVolumeOwner);
    REQUIRE(read_file(f.view + "/a") == "a");
    const pid_t worker = v.process().worker();
    REQUIRE(worker > 0);
    v.stop(sig);  // exit 0, not FUSE any more, mountpoint empty
    CHECK(v.process().log().find("unmounting") != std::string::npos);
    CHECK(::kill(worker, 0) != 0);  // the worker is gone too
  }
}

TEST_CASE("a dead mount left by a killed gateway is replaced by the next one", "[lifecycle]") {
  MountedView v;
  const Folders f = start_web(v);
  write_file(f.backing + "/a", "a", kVolumeOwner, kVolumeOwner);
  const pid_t worker = v.process().worker();
  REQUIRE(worker > 0);
  // Both processes die at once, as with `kill -9` of the container: the
  // stopped supervisor cannot restart the worker before it dies itself.
  v.process().signal(SIGSTOP);
  REQUIRE(::kill(worker, SIGKILL) == 0);
  CHECK(eventually(5, [&] { return fs_type(v.mountpoint()) == -ENOTCONN; }));
  v.process().signal(SIGKILL);
  REQUIRE(v.process().wait_exit(5) == 128 + SIGKILL);
  // The kernel keeps the mount, with nobody answering.
  CHECK(fs_type(v.mountpoint()) == -ENOTCONN);

  GatewayProcess next(v.args(ViewSpec{{ann}, {"web:ann:web"}}), v.tree() / "next.log");
  const std::string problem = next.wait_mounted(v.mountpoint());
  INFO(next.log());
  REQUIRE(problem == "");
  CHECK(read_file(f.view + "/a") == "a");
  CHECK(next.log().find("dead mount") != std::string::npos);
  next.signal(SIGTERM);
  CHECK(next.wait_exit(5) == 0);
  CHECK_FALSE(is_fuse(v.mountpoint()));
  CHECK(fs_type(v.mountpoint()) > 0);
}

TEST_CASE("the supervisor replaces a worker that died, on the same mountpoint", "[lifecycle]") {
  MountedView v;
  const Folders f = start_web(v);
  write_file(f.backing + "/a", "a", kVolumeOwner, kVolumeOwner);
  const pid_t first = v.process().worker();
  REQUIRE(first > 0);
  REQUIRE(::kill(first, SIGKILL) == 0);
  CHECK(eventually(10, [&] {
    const pid_t now = v.process().worker();
    return now > 0 && now != first && is_fuse(v.mountpoint()) && read_in_child(f.view + "/a") == "a";
  }));
  CHECK(v.process().log().find("restarting") != std::string::npos);
  // Writes work through the new worker, and land as before.
  CHECK(call_as(ann.who(), [&] {
          const int fd = ::open((f.view + "/b").c_str(), O_CREAT | O_WRONLY, 0644);
          if (fd >= 0) ::close(fd);
          return fd < 0 ? -1L : 0L;
        }).str() == "ok");
  CHECK(lstat_of(f.backing + "/b").st_uid == kVolumeOwner);
}

TEST_CASE("a hung worker is aborted by the watchdog and replaced", "[lifecycle][slow]") {
  MountedView v;
  const Folders f = start_web(v);
  write_file(f.backing + "/a", "a", kVolumeOwner, kVolumeOwner);
  const pid_t first = v.process().worker();
  REQUIRE(first > 0);
  REQUIRE(::kill(first, SIGSTOP) == 0);
  // A client caught in the hang gets an answer (an error or, after the
  // restart, the file) instead of waiting forever.
  const std::string during = read_in_child(f.view + "/a", 15);
  INFO("read during the hang: " << during);
  CHECK(eventually(10, [&] {
    const pid_t now = v.process().worker();
    return now > 0 && now != first && read_in_child(f.view + "/a") == "a";
  }));
  CHECK(v.process().log().find("watchdog") != std::string::npos);
}

TEST_CASE("a config file named without a folder is watched for changes too", "[lifecycle]") {
  MountedView v;
  v.add_volume("web");
  v.add_volume("more");
  const std::string folder = v.tree() / "";
  std::ofstream(folder + "gateway.conf") << "map = web:ann:web\n";
  // `--config gateway.conf`, run from the folder that holds it.
  char* before = ::getcwd(nullptr, 0);
  REQUIRE(::chdir(folder.c_str()) == 0);
  v.start(ViewSpec{{ann}, {}, {"--config", "gateway.conf"}});
  REQUIRE(::chdir(before) == 0);
  std::free(before);
  CHECK(exists(v.home(ann) + "/web"));
  CHECK_FALSE(exists(v.home(ann) + "/more"));
  std::ofstream(folder + "gateway.conf", std::ios::app) << "map = more:ann:more\n";
  CHECK(eventually(10, [&] { return exists(v.home(ann) + "/more"); }));
  CHECK(v.process().log().find("cannot watch") == std::string::npos);
}
