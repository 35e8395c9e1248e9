// Start-up errors: each exits with its documented code and mounts nothing.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

// `args` with the value of `option` replaced (start() always passes it).
std::vector<std::string> with_option(std::vector<std::string> args, const std::string& option,
                                     const std::string& value) {
  const auto it = std::find(args.begin(), args.end(), option);
  REQUIRE(it != args.end());
  *(it + 1) = value;
  return args;
}

}  // namespace

TEST_CASE("configuration errors exit 2 and mount nothing", "[startup]") {
  MountedView v;
  v.add_volume("web");
  const std::vector<ViewSpec> bad = {
      {{ann}, {"web:nobody:web"}},              // a rule for an unknown user
      {{ann}, {"web:ann:web:bogus"}},           // an unknown option
      {{ann}, {"web:ann:web", "web:ann:web"}},  // the same mount twice
  };
  for (const auto& spec : bad) {
    INFO(spec.maps.back());
    const int code = run_gateway(v.args(spec), v.log_path());
    INFO(read_file(v.log_path()));
    CHECK(code == 2);
    CHECK_FALSE(is_fuse(v.mountpoint()));
  }
  CHECK_FALSE(exists(v.backing_home(ann)));
}

TEST_CASE("an unusable backing folder exits 3 and mounts nothing", "[startup]") {
  MountedView v;
  v.add_volume("rootowned", 0, 0, 0755);
  REQUIRE(::symlink("/etc", v.volume("linked").c_str()) == 0);
  const std::vector<ViewSpec> bad = {
      {{ann}, {"rootowned:ann:web"}},  // files would be stored as root
      {{ann}, {"linked:ann:web"}},     // a volume folder that is a symlink
      {{ann}, {"missing:ann:web"}},    // no such volume
  };
  // The shared state folder has its host keys (an earlier start made them):
  // serve's supervisor leaves the folders to the worker, which opens each one
  // once while building the view and must refuse as check does, before it
  // mounts; in host mode the supervisor's bind mount goes too, and no sshd.
  for (const auto& spec : bad) {
    std::vector<std::string> checked_args = v.args(spec);
    checked_args.front() = "check";
    const int checked = run_gateway(checked_args, v.log_path());
    const std::string check_lines = read_file(v.log_path());
    REQUIRE(checked == 3);
    for (const bool host_mode : {false, true}) {
      INFO(spec.maps.back() << (host_mode ? " (host mode)" : ""));
      std::vector<std::string> a = v.args(spec);
      if (host_mode) a.insert(a.end(), {"--run-sshd", "--listen", "127.0.0.1", "--port", std::to_string(free_loopback_port())});
      const int code = run_gateway(a, v.log_path());
      const std::string log = read_file(v.log_path());
      INFO(log);
      CHECK(code == 3);
      CHECK(log.find(check_lines) != std::string::npos);  // check's lines, word for word
      CHECK_FALSE(is_fuse(v.mountpoint()));
      CHECK_FALSE(is_mount_point(v.mountpoint()));
      CHECK_FALSE(exists(MountedView::state_dir() + "/sshd.pid"));
    }
  }
  CHECK_FALSE(exists(v.backing_home(ann)));  // nothing written either
  // With owner= the root-owned folder is served.
  v.start(ViewSpec{{ann}, {"rootowned:ann:web:owner=54321:54321"}});
  CHECK(S_ISDIR(lstat_of(v.home(ann) + "/web").st_mode));
}

TEST_CASE("a rule's subdir is walked without following a symlink swapped into it", "[startup][confinement]") {
  MountedView v;
  const std::string shared = v.add_volume("shared");
  make_dir(shared + "/site", kVolumeOwner, kVolumeOwner, 0755);
  make_dir(shared + "/site/public", kVolumeOwner, kVolumeOwner, 0755);
  // Unrestricted first: the real folders are served.
  v.start(ViewSpec{{ann}, {"shared/site/public:ann:pub"}});
  CHECK(S_ISDIR(lstat_of(v.home(ann) + "/pub").st_mode));
  v.stop();
  // Someone who can write the volume swaps `site` for a symlink to a folder
  // owned by the volume's owner elsewhere: the mapping is refused (exit 3),
  // never redirected.
  make_dir(v.tree() / "elsewhere", kVolumeOwner, kVolumeOwner, 0755);
  make_dir(v.tree() / "elsewhere/public", kVolumeOwner, kVolumeOwner, 0755);
  REQUIRE(::rename((shared + "/site").c_str(), (shared + "/site.real").c_str()) == 0);
  REQUIRE(::symlink((v.tree() / "elsewhere").c_str(), (shared + "/site").c_str()) == 0);
  const int code = run_gateway(v.args(ViewSpec{{ann}, {"shared/site/public:ann:pub"}}), v.log_path());
  INFO(read_file(v.log_path()));
  CHECK(code == 3);
  CHECK_FALSE(is_fuse(v.mountpoint()));
}

TEST_CASE("a second gateway on a live mountpoint exits 4 and leaves the first serving", "[startup]") {
  MountedView v;
  const Folders f = start_web(v);
  write_file(f.backing + "/a", "a", kVolumeOwner, kVolumeOwner);
  const int code = run_gateway(v.args(ViewSpec{{ann}, {"web:ann:web"}}), v.tree() / "second.log");
  INFO(read_file(v.tree() / "second.log"));
  CHECK(code == 4);
  CHECK(is_fuse(v.mountpoint()));
  CHECK(read_file(f.view + "/a") == "a");
}

TEST_CASE("a mountpoint below a folder sshd refuses exits 2, names the folder and mounts nothing", "[startup]") {
  // sshd checks every folder above a user's chroot (root's, not group or
  // world writable) and refuses every login otherwise, in its own log only.
  MountedView v;
  v.add_volume("web");
  make_dir(v.tree() / "under-tmp", 0, 0, 0755);                     // below /tmp (1777)
  const TempTree base(kMountBase);
  make_dir(base / "theirs", kVolumeOwner, kVolumeOwner, 0755);       // not root's
  make_dir(base / "theirs/view", 0, 0, 0755);
  make_dir(base / "group", 0, 0, 0775);                              // group writable
  make_dir(base / "group/view", 0, 0, 0755);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {v.tree() / "under-tmp", "sshd refuses to chroot below /tmp: its mode 1777"},
      {base / "theirs/view", "sshd refuses to chroot below " + base / "theirs" + ": it is owned by uid 54321"},
      {base / "group/view", "sshd refuses to chroot below " + base / "group" + ": its mode 0775"},
  };
  const std::vector<std::string> args = v.args(ViewSpec{{ann}, {"web:ann:web"}});
  for (const auto& [mountpoint, message] : bad) {
    for (const bool host_mode : {false, true}) {
      INFO(mountpoint << (host_mode ? " (host mode)" : ""));
      std::vector<std::string> a = with_option(args, "--mountpoint", mountpoint);
      if (host_mode) a.insert(a.end(), {"--run-sshd", "--listen", "127.0.0.1", "--port", std::to_string(free_loopback_port())});
      const int code = run_gateway(a, v.log_path());
      const std::string log = read_file(v.log_path());
      INFO(log);
      CHECK(code == 2);
      CHECK(log.find("mountpoint: '" + mountpoint + "': " + message) != std::string::npos);
      CHECK_FALSE(is_mount_point(mountpoint));  // neither the view nor host mode's bind mount
    }
  }
  // The same view below a root-owned 0755 folder is served.
  v.start(ViewSpec{{ann}, {"web:ann:web"}});
  CHECK(S_ISDIR(lstat_of(v.home(ann) + "/web").st_mode));
}

TEST_CASE("serve judges the configuration before it generates host keys", "[startup]") {
  // RSA 4096 takes seconds: a configuration serve refuses must not cost them,
  // nor leave keys behind in a state folder it will never use.
  MountedView v;
  v.add_volume("web");
  const TempTree state;
  const std::vector<std::pair<ViewSpec, int>> bad = {
      {{{ann}, {"web:nobody:web"}}, 2},   // the configuration
      {{{ann}, {"missing:ann:web"}}, 3},  // a backing folder
  };
  for (const auto& [spec, expected] : bad) {
    INFO(spec.maps.back());
    const int code = run_gateway(with_option(v.args(spec), "--state-dir", state / "state"), v.log_path());
    INFO(read_file(v.log_path()));
    CHECK(code == expected);
    CHECK_FALSE(exists(state / "state/host_keys"));
    CHECK_FALSE(is_fuse(v.mountpoint()));
  }
}

TEST_CASE("host mode leaves no bind mount behind when the worker cannot start", "[startup]") {
  // Host mode binds the mountpoint onto itself before the worker starts; a
  // worker that fails (here: the state folder is a file, so no host keys)
  // must not leave that bind mount.
  MountedView v;
  v.add_volume("web");
  write_file(v.tree() / "state-file", "not a folder");
  std::vector<std::string> a = with_option(v.args(ViewSpec{{ann}, {"web:ann:web"}}), "--state-dir", v.tree() / "state-file");
  a.insert(a.end(), {"--run-sshd", "--listen", "127.0.0.1", "--port", std::to_string(free_loopback_port())});
  const int code = run_gateway(a, v.log_path());
  INFO(read_file(v.log_path()));
  CHECK(code == 1);
  CHECK_FALSE(is_mount_point(v.mountpoint()));
}

