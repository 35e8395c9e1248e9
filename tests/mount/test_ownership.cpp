// The ownership model: what the user creates lands owned by the mapping's
// stored owner (the volume folder's owner, or owner=), and objects stored as
// that owner are presented as the user; everything else keeps its owner.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

std::function<long()> create(const std::string& p) {
  return [p] {
    const int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0644);
    if (fd < 0) return -1L;
    const long n = ::write(fd, "x", 1);
    ::close(fd);
    return n;
  };
}

std::function<long()> make_dir_at(const std::string& p) {
  return [p] { return static_cast<long>(::mkdir(p.c_str(), 0755)); };
}

std::string owner_of(const std::string& p) {
  const struct stat st = lstat_of(p);
  return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
}

// The kernel's overflow id ("uid" or "gid"): how an id that is not the
// user's in a mapping is shown.
unsigned overflow_id(const std::string& which) {
  return static_cast<unsigned>(std::stoul(read_file("/proc/sys/fs/overflow" + which)));
}

const std::string kUser = std::to_string(ann.uid) + ":" + std::to_string(ann.gid);
const std::string kStored = std::to_string(kVolumeOwner) + ":" + std::to_string(kVolumeOwner);

}  // namespace

TEST_CASE("what the user creates in a volume lands owned by the volume's owner", "[ownership]") {
  MountedView v;
  const Folders f = start_web(v);
  REQUIRE(owner_of(f.backing) == kStored);
  CHECK(owner_of(f.view) == kUser);
  CHECK(call_as(ann.who(), create(f.view + "/file")).str() == "ok 1");
  CHECK(call_as(ann.who(), make_dir_at(f.view + "/dir")).str() == "ok");
  CHECK(call_as(ann.who(), make_dir_at(f.view + "/dir/nested")).str() == "ok");
  CHECK(call_as(ann.who(), create(f.view + "/dir/nested/deep")).str() == "ok 1");
  CHECK(call_as(ann.who(), [&] {
          return static_cast<long>(::rename((f.view + "/file").c_str(), (f.view + "/dir/moved").c_str()));
        }).str() == "ok");
  // Root acting through the view also acts as the stored owner.
  CHECK(call_as(root_user(), create(f.view + "/by-root")).str() == "ok 1");
  for (const char* p : {"/dir", "/dir/nested", "/dir/nested/deep", "/dir/moved", "/by-root"}) {
    INFO(p);
    CHECK(owner_of(f.backing + p) == kStored);
    CHECK(owner_of(f.view + p) == kUser);
  }
}

TEST_CASE("objects of other owners keep their owner, and their permissions apply", "[ownership]") {
  MountedView v;
  const std::string native = v.native_dir("ann", ann);
  const std::string web = v.add_volume("web");
  write_file(web + "/theirs", "t", 4242, 4243, 0644);
  write_file(web + "/shared", "s", 4242, 4243, 0666);
  write_file(web + "/root-owned", "r", 0, 0, 0644);
  write_file(web + "/half", "h", kVolumeOwner, 4243, 0664);
  write_file(native + "/theirs", "t", 4242, 4243, 0644);
  write_file(native + "/shared", "s", 4242, 4243, 0666);
  v.start(ViewSpec{{ann}, {"web:ann:web"}});
  const std::string view = v.home(ann) + "/web";
  CHECK(owner_of(view + "/theirs") == "4242:4243");
  CHECK(owner_of(view + "/root-owned") == "0:0");
  CHECK(owner_of(view + "/half") == std::to_string(ann.uid) + ":4243");

  const auto append = [](const std::string& p) {
    return [p] {
      const int fd = ::open(p.c_str(), O_WRONLY | O_APPEND);
      if (fd < 0) return -1L;
      const long n = ::write(fd, "+", 1);
      ::close(fd);
      return n;
    };
  };
  // Same answers as a native folder holding files of the same owners.
  CHECK(call_as(ann.who(), append(native + "/theirs")).str() == "EACCES");
  CHECK(call_as(ann.who(), append(view + "/theirs")).str() == "EACCES");
  CHECK(call_as(ann.who(), append(native + "/shared")).str() == "ok 1");
  CHECK(call_as(ann.who(), append(view + "/shared")).str() == "ok 1");
  CHECK(call_as(ann.who(), append(view + "/root-owned")).str() == "EACCES");
  CHECK(read_file(web + "/shared") == "s+");
  CHECK(read_file(web + "/theirs") == "t");
  CHECK(owner_of(web + "/shared") == "4242:4243");
}

TEST_CASE("the user's own ids on disk are nobody's where another owner is stored", "[ownership]") {
  const std::string nobody = std::to_string(overflow_id("uid"));
  const std::string nogroup = std::to_string(overflow_id("gid"));
  const std::string uid = std::to_string(ann.uid);
  const std::string gid = std::to_string(ann.gid);
  MountedView v;
  const std::string web = v.add_volume("web");
  write_file(web + "/stored", "s", kVolumeOwner, kVolumeOwner);
  write_file(web + "/users-ids", "u", ann.uid, ann.gid, 0600);
  write_file(web + "/users-uid", "u", ann.uid, kVolumeOwner);
  write_file(web + "/users-gid", "u", kVolumeOwner, ann.gid);
  make_dir(v.backing_home(ann), ann.uid, ann.gid, 0750);  // a home from an earlier start
  write_file(v.backing_home(ann) + "/mine", "m", ann.uid, ann.gid);
  write_file(v.backing_home(ann) + "/theirs", "t", 4242, 4243);
  v.start(ViewSpec{{ann}, {"web:ann:web"}});
  const std::string view = v.home(ann) + "/web";
  CHECK(owner_of(view + "/stored") == kUser);
  CHECK(owner_of(view + "/users-ids") == nobody + ":" + nogroup);
  CHECK(owner_of(view + "/users-uid") == nobody + ":" + gid);
  CHECK(owner_of(view + "/users-gid") == uid + ":" + nogroup);
  // Nobody's file of mode 0600: the kernel refuses the user, as the
  // backing store refuses the stored owner.
  CHECK(call_as(ann.who(), [&] { return static_cast<long>(::open((view + "/users-ids").c_str(), O_RDONLY)); }).str() ==
        "EACCES");
  // In the home the stored owner is the user: their files are theirs.
  CHECK(owner_of(v.home(ann) + "/mine") == kUser);
  CHECK(owner_of(v.home(ann) + "/theirs") == "4242:4243");
}

TEST_CASE("owner= sets the stored owner regardless of the folder's owner", "[ownership]") {
  MountedView v;
  const std::string web = v.add_volume("web", kVolumeOwner, kVolumeOwner, 0777);
  write_file(web + "/folder-owners", "f", kVolumeOwner, kVolumeOwner);
  write_file(web + "/stored-owners", "s", 54400, 54401);
  v.start(ViewSpec{{ann}, {"web:ann:web:owner=54400:54401"}});
  const std::string view = v.home(ann) + "/web";
  CHECK(owner_of(view + "/stored-owners") == kUser);
  CHECK(owner_of(view + "/folder-owners") == kStored);
  CHECK(call_as(ann.who(), create(view + "/new")).str() == "ok 1");
  CHECK(call_as(ann.who(), make_dir_at(view + "/newdir")).str() == "ok");
  CHECK(owner_of(web + "/new") == "54400:54401");
  CHECK(owner_of(web + "/newdir") == "54400:54401");
  CHECK(owner_of(view + "/new") == kUser);
}

TEST_CASE("a read-only mapping of a root-owned folder is served, reading as any other account", "[ownership]") {
  // Docker creates volumes root-owned; sharing one read-only stores nothing,
  // so it needs no owner=. Root's files keep showing as root's: the user
  // reads what any other account may read, as through a bind mount.
  MountedView v;
  const std::string native = v.native_dir("ann", ann);
  const std::string site = v.add_volume("site", 0, 0, 0755);
  for (const std::string& dir : {site, native}) {
    write_file(dir + "/index.html", "hello", 0, 0, 0644);
    write_file(dir + "/secret.key", "key", 0, 0, 0600);
    make_dir(dir + "/private", 0, 0, 0700);
    write_file(dir + "/private/inner", "inner", 0, 0, 0644);
  }
  v.start(ViewSpec{{ann}, {"site:ann:site:ro"}});
  const std::string view = v.home(ann) + "/site";
  CHECK(owner_of(view) == "0:0");
  CHECK(owner_of(view + "/index.html") == "0:0");
  const auto read_as_ann = [](const std::string& p) {
    return run_as(ann.who(), [p] {
      const int fd = ::open(p.c_str(), O_RDONLY);
      if (fd < 0) return errno_name(errno);
      char buf[16] = {};
      const ssize_t n = ::read(fd, buf, sizeof buf);
      ::close(fd);
      return n < 0 ? errno_name(errno) : std::string(buf, static_cast<std::size_t>(n));
    });
  };
  // The same answers as the native folder holding the same root-owned files.
  for (const char* name : {"/index.html", "/secret.key", "/private/inner"}) {
    INFO(name);
    CHECK(read_as_ann(view + name) == read_as_ann(native + name));
  }
  CHECK(read_as_ann(view + "/index.html") == "hello");
  CHECK(read_as_ann(view + "/secret.key") == "EACCES");
  CHECK(read_as_ann(view + "/private/inner") == "EACCES");
  // Nothing is stored through it: the kernel refuses the user first (the
  // folder shows as root's 0755), the view refuses root.
  CHECK(call_as(ann.who(), create(view + "/new")).str() == "EACCES");
  CHECK(call_as(root_user(), create(view + "/new")).str() == "EROFS");
  CHECK_FALSE(exists(site + "/new"));
}

TEST_CASE("the home is created for the user and what lands there is the user's", "[ownership]") {
  MountedView v;
  REQUIRE_FALSE(exists(v.backing_home(ann)));
  v.start(ViewSpec{{ann}, {}});
  const struct stat home = lstat_of(v.backing_home(ann));
  CHECK(owner_of(v.backing_home(ann)) == kUser);
  CHECK((home.st_mode & 0022) == 0);
  CHECK(call_as(ann.who(), create(v.home(ann) + "/file")).str() == "ok 1");
  CHECK(call_as(ann.who(), make_dir_at(v.home(ann) + "/dir")).str() == "ok");
  CHECK(owner_of(v.backing_home(ann) + "/file") == kUser);
  CHECK(owner_of(v.backing_home(ann) + "/dir") == kUser);
  CHECK(owner_of(v.home(ann) + "/file") == kUser);
}

TEST_CASE("a home is made through descriptors: a symlink in its place is never followed", "[ownership][confinement]") {
  MountedView v;
  const std::string victim = v.tree() / "victim";  // a root-owned folder elsewhere
  make_dir(victim, 0, 0, 0755);
  const auto untouched = [&] {
    const struct stat st = lstat_of(victim);
    return st.st_uid == 0 && st.st_gid == 0 && (st.st_mode & 07777) == 0755;
  };
  // Planted before the start, a symlink or a file under the home's name is
  // refused (exit 3), not followed and not replaced.
  REQUIRE(::symlink(victim.c_str(), v.backing_home(ann).c_str()) == 0);
  const std::string refused = "user ann: home " + v.backing_home(ann) + ": not a folder (a symlink or a file has its name)";
  CHECK(run_gateway(v.args(ViewSpec{{ann}, {}}), v.log_path()) == 3);
  CHECK(read_file(v.log_path()).find(refused) != std::string::npos);
  CHECK(untouched());
  REQUIRE(::unlink(v.backing_home(ann).c_str()) == 0);
  write_file(v.backing_home(ann), "f");
  CHECK(run_gateway(v.args(ViewSpec{{ann}, {}}), v.log_path()) == 3);
  CHECK(read_file(v.log_path()).find(refused) != std::string::npos);
  REQUIRE(::unlink(v.backing_home(ann).c_str()) == 0);

  // Swapped while it is being made: strace holds every change of owner for
  // 2 s, and in that window the new home is renamed away and a symlink to
  // the victim put in its place. A chown by path would follow the link and
  // hand the victim to the user; one by descriptor changes the folder made.
  GatewayProcess traced(v.args(ViewSpec{{ann}, {}}), v.tree() / "traced.log", 0,
                        // LeakSanitizer cannot run under ptrace (the sanitizer build).
                        {"env", "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1", "strace", "-f", "-qq", "-o",
                         v.tree() / "strace.out", "-e", "trace=chown,fchown,fchownat,lchown", "-e",
                         "inject=chown,fchown,fchownat,lchown:delay_enter=2000000"});
  bool swapped = false;
  for (int i = 0; i < 1500 && !swapped && !traced.exited(); ++i) {
    struct stat st {};
    if (::lstat(v.backing_home(ann).c_str(), &st) == 0) {
      REQUIRE(::rename(v.backing_home(ann).c_str(), (v.backing_home(ann) + ".made").c_str()) == 0);
      REQUIRE(::symlink(victim.c_str(), v.backing_home(ann).c_str()) == 0);
      swapped = true;
    } else {
      ::usleep(2000);
    }
    if (i % 50 == 0) traced.wait_exit(0);  // notes an early exit
  }
  INFO(traced.log());
  REQUIRE(swapped);
  CHECK(traced.wait_exit(20) == 3);  // the home is a symlink now: refused
  CHECK(untouched());
}
