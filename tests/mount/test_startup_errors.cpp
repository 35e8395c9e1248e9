// Start-up errors: each exits with its documented code and mounts nothing.
#include <sys/stat.h>
#include <unistd.h>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

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
  for (const auto& spec : bad) {
    INFO(spec.maps.back());
    const int code = run_gateway(v.args(spec), v.log_path());
    INFO(read_file(v.log_path()));
    CHECK(code == 3);
    CHECK_FALSE(is_fuse(v.mountpoint()));
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
