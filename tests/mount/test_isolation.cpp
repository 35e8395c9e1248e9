// Isolation between users: a process with another uid gets EACCES anywhere
// in a user's tree, whatever path or descriptor it comes by; and the chroot
// skeleton passes the checks sshd makes before it chroots.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

std::function<long()> open_read(const std::string& p) {
  return [p] {
    const int fd = ::open(p.c_str(), O_RDONLY);
    if (fd < 0) return -1L;
    char c = 0;
    const long n = ::read(fd, &c, 1);
    ::close(fd);
    return n;
  };
}

std::function<long()> stat_path(const std::string& p) {
  return [p] {
    struct stat st {};
    return static_cast<long>(::stat(p.c_str(), &st));
  };
}

std::function<long()> make(const std::string& p) {
  return [p] {
    const int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) ::close(fd);
    return fd < 0 ? -1L : 0L;
  };
}

// Two users; ann's files are readable by anyone by their modes, so only the
// gateway's per-user rule can keep bob out.
void start_two(MountedView& v) {
  const std::string web = v.add_volume("web", kVolumeOwner, kVolumeOwner, 0777);
  write_file(web + "/secret", "ann's", kVolumeOwner, kVolumeOwner, 0666);
  make_dir(v.backing_home(ann), ann.uid, ann.gid, 0755);
  write_file(v.backing_home(ann) + "/notes", "ann's", ann.uid, ann.gid, 0666);
  const std::string bobs = v.add_volume("bobs", kVolumeOwner + 1, kVolumeOwner + 1, 0755);
  // An absolute symlink in bob's own volume pointing into ann's tree.
  REQUIRE(::symlink((v.home(ann) + "/web/secret").c_str(), (bobs + "/to-ann").c_str()) == 0);
  v.start(ViewSpec{{ann, bob}, {"web:ann:web", "bobs:bob:files:symlinks"}});
}

}  // namespace

TEST_CASE("another user's uid gets EACCES anywhere in a user's tree", "[isolation]") {
  MountedView v;
  start_two(v);
  const std::string home = v.home(ann);
  const Who outsider{4242, 4242};
  for (const Who& who : {bob.who(), outsider}) {
    INFO("uid " << who.uid);
    CHECK(call_as(who, stat_path(v.chroot_of(ann) + "/ann")).str() == "EACCES");
    CHECK(call_as(who, open_read(home + "/notes")).str() == "EACCES");
    CHECK(call_as(who, open_read(home + "/web/secret")).str() == "EACCES");
    CHECK(call_as(who, make(home + "/web/planted")).str() == "EACCES");
    CHECK(call_as(who, open_read(v.chroot_of(bob) + "/../ann-chroot/ann/notes")).str() == "EACCES");
  }
  // Through a symlink in bob's own mapping: resolved by bob's kernel, then
  // refused by the view like any other path into ann's tree.
  CHECK(call_as(bob.who(), open_read(v.home(bob) + "/files/to-ann")).str() == "EACCES");
  CHECK_FALSE(exists(v.volume("web") + "/planted"));
  // The owner, and root (sshd before it drops privileges), get in.
  CHECK(call_as(ann.who(), open_read(home + "/web/secret")).str() == "ok 1");
  CHECK(call_as(root_user(), open_read(home + "/notes")).str() == "ok 1");
}

TEST_CASE("names the owner just used stay closed to another uid while the kernel caches them", "[isolation]") {
  MountedView v;
  start_two(v);
  const std::string home = v.home(ann);
  // Within the entry/attribute cache window (1 s by default) the kernel
  // answers stat(2) from its cache after checking only the modes the view
  // gave it (data/<user>-chroot is 0755), so the gateway's per-user check is
  // never asked. Only the presented modes can close this (for instance the
  // chroot folder as root:<user's gid> 0750, which sshd accepts).
  for (const std::string& p : {home + "/notes", home + "/web/secret", home + "/web"}) {
    INFO(p);
    REQUIRE(call_as(ann.who(), stat_path(p)).str() == "ok");
    CHECK(call_as(bob.who(), stat_path(p)).str() == "EACCES");
    CHECK(call_as(bob.who(), open_read(p)).str() == "EACCES");
  }
}

TEST_CASE("a descriptor opened into a user's tree does not let another uid look up names", "[isolation]") {
  MountedView v;
  start_two(v);
  // Opened as root (like a privileged parent), then used after dropping to bob.
  const int dir = ::open((v.home(ann) + "/web").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(dir >= 0);
  const auto openat_read = [dir](const char* name) {
    return [dir, name] {
      const int fd = ::openat(dir, name, O_RDONLY);
      if (fd >= 0) ::close(fd);
      return fd < 0 ? -1L : 0L;
    };
  };
  CHECK(call_as(ann.who(), openat_read("secret")).str() == "ok");
  CHECK(call_as(bob.who(), openat_read("secret")).str() == "EACCES");
  CHECK(call_as(bob.who(), openat_read("not-there")).str() == "EACCES");
  ::close(dir);
}

TEST_CASE("chrooted, a user reaches only their own tree", "[isolation]") {
  MountedView v;
  start_two(v);
  const Who jailed_bob{bob.uid, bob.gid, v.chroot_of(bob)};
  CHECK(call_as(jailed_bob, stat_path("/bob/files")).str() == "ok");
  CHECK(call_as(jailed_bob, open_read("/../ann-chroot/ann/notes")).str() == "ENOENT");
  CHECK(call_as(jailed_bob, open_read("/bob/files/to-ann")).str() == "ENOENT");
  CHECK(call_as(jailed_bob, stat_path("/ann")).str() == "ENOENT");
  const Who jailed_ann{ann.uid, ann.gid, v.chroot_of(ann)};
  CHECK(call_as(jailed_ann, open_read("/ann/web/secret")).str() == "ok 1");
}

TEST_CASE("every component of a chroot path is root-owned and not group/other-writable", "[isolation]") {
  MountedView v;
  start_two(v);
  // What sshd checks, as root, before it chroots.
  for (const std::string& p : {v.mountpoint(), v.mountpoint() + "/data", v.chroot_of(ann), v.chroot_of(bob)}) {
    INFO(p);
    const struct stat st = lstat_of(p);
    CHECK(S_ISDIR(st.st_mode));
    CHECK(st.st_uid == 0);
    CHECK((st.st_mode & 022) == 0);
  }
  // Root-owned and read-only for everyone, root included.
  CHECK(call_as(root_user(), make(v.mountpoint() + "/data/x")).str() == "EROFS");
  CHECK(call_as(root_user(), [&] { return static_cast<long>(::mkdir((v.chroot_of(ann) + "/d").c_str(), 0755)); })
            .str() == "EROFS");
  CHECK(call_as(root_user(), [&] { return static_cast<long>(::chmod((v.mountpoint() + "/data").c_str(), 0777)); })
            .str() == "EROFS");
  CHECK(call_as(ann.who(), make(v.chroot_of(ann) + "/x")).str() == "EACCES");
  CHECK(names_in(v.mountpoint() + "/data") == std::vector<std::string>{"ann-chroot", "bob-chroot"});
}
