// Refusals that depend on what is being reached rather than on the name
// being made: read-only mappings, extended attribute namespaces, and special
// files another container planted in a volume.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <functional>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

// Every kind of write, each on its own object so all succeed natively.
void write_attempts(Transcript& t) {
  const struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  t.open("create new", ::open("new", O_CREAT | O_WRONLY, 0644));
  t.open("open for writing", ::open("f", O_WRONLY));
  t.open("open read-write", ::open("f", O_RDWR));
  t.open("open with O_TRUNC", ::open("f", O_RDONLY | O_TRUNC));
  t.call("truncate", ::truncate("f", 1));
  t.call("utimens", ::utimensat(AT_FDCWD, "f", now, 0));
  t.call("chmod", ::chmod("f", 0600));
  t.call("setxattr", ::setxattr("f", "user.x", "1", 1, 0));
  t.call("link", ::link("f", "f2"));
  t.call("symlink", ::symlink("f", "l"));
  t.call("mkdir", ::mkdir("newdir", 0755));
  t.call("rmdir", ::rmdir("empty"));
  t.call("unlink", ::unlink("h"));
  t.call("rename", ::rename("g", "g2"));
}

void plant_tree(const std::string& dir, uid_t uid, gid_t gid) {
  write_file(dir + "/f", "data", uid, gid);
  write_file(dir + "/g", "g", uid, gid);
  write_file(dir + "/h", "h", uid, gid);
  make_dir(dir + "/empty", uid, gid, 0755);
}

std::function<long()> open_path(const std::string& p, int flags) {
  return [p, flags] {
    const int fd = ::open(p.c_str(), flags, 0644);
    if (fd >= 0) ::close(fd);
    return fd < 0 ? -1L : 0L;
  };
}

std::string xattr_of(const std::string& p, const char* name) {
  char buf[64];
  const ssize_t n = ::lgetxattr(p.c_str(), name, buf, sizeof buf);
  return n < 0 ? errno_name(errno) : std::string(buf, static_cast<std::size_t>(n));
}

std::function<long()> set_xattr(const std::string& p, const char* name) {
  return [p, name] { return static_cast<long>(::setxattr(p.c_str(), name, "v", 1, 0)); };
}

}  // namespace

TEST_CASE("a read-only mapping answers EROFS to every write and still serves reads", "[policy][ro]") {
  MountedView v;
  const std::string native = v.native_dir("ann", ann);
  const std::string web = v.add_volume("web");
  plant_tree(native, ann.uid, ann.gid);
  plant_tree(web, kVolumeOwner, kVolumeOwner);
  const struct stat before = lstat_of(web + "/f");
  v.start(ViewSpec{{ann}, {"web:ann:web:ro"}});
  const std::string view = v.home(ann) + "/web";

  for (const auto& line : transcript_as(ann.who(), native, write_attempts)) {
    INFO("native: " << line);
    CHECK(line.substr(line.size() - 5) == "-> ok");
  }
  for (const auto& line : transcript_as(ann.who(), view, write_attempts)) {
    INFO("view: " << line);
    CHECK(line.substr(line.size() - 8) == "-> EROFS");
  }
  // Moving a file from the writable home into the read-only mapping.
  REQUIRE(call_as(ann.who(), open_path(v.home(ann) + "/h", O_CREAT | O_WRONLY)).str() == "ok");
  CHECK(call_as(ann.who(), [&] {
          return static_cast<long>(::rename((v.home(ann) + "/h").c_str(), (view + "/h").c_str()));
        }).str() == "EROFS");
  CHECK(run_as(ann.who(), [&] { return read_file(view + "/f"); }) == "data");

  CHECK(names_in(web) == std::vector<std::string>{"empty", "f", "g", "h"});
  const struct stat after = lstat_of(web + "/f");
  CHECK(read_file(web + "/f") == "data");
  CHECK(after.st_mode == before.st_mode);
  CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
  CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
  CHECK(xattr_of(web + "/f", "user.x") == "ENODATA");
}

TEST_CASE("xattrs: only the user namespace passes, for root too", "[policy][xattr]") {
  MountedView v;
  const std::string native = v.native_dir("ann", ann);
  const std::string web = v.add_volume("web");
  write_file(native + "/f", "x", ann.uid, ann.gid);
  write_file(web + "/f", "x", kVolumeOwner, kVolumeOwner);
  REQUIRE(::lsetxattr((web + "/f").c_str(), "trusted.planted", "root", 4, 0) == 0);
  REQUIRE(::lsetxattr((web + "/f").c_str(), "user.planted", "u", 1, 0) == 0);
  v.start(ViewSpec{{ann}, {"web:ann:web"}});
  CHECK(call_as(ann.who(), set_xattr(native + "/f", "user.a")).str() == "ok");
  CHECK(call_as(root_user(), set_xattr(native + "/f", "trusted.t")).str() == "ok");
  CHECK(call_as(root_user(), set_xattr(native + "/f", "security.s")).str() == "ok");

  const std::string f = v.home(ann) + "/web/f";
  CHECK(call_as(ann.who(), set_xattr(f, "user.a")).str() == "ok");
  CHECK(run_as(ann.who(), [&] { return xattr_of(f, "user.a") + " " + xattr_of(f, "user.planted"); }) == "v u");
  const std::string names = run_as(ann.who(), [&] {
    char buf[256];
    const ssize_t n = ::listxattr(f.c_str(), buf, sizeof buf);
    return n < 0 ? errno_name(errno) : std::string(buf, static_cast<std::size_t>(n));
  });
  CHECK(names.find("user.a") != std::string::npos);
  CHECK(names.find("user.planted") != std::string::npos);
  CHECK(names.find("trusted") == std::string::npos);
  CHECK(call_as(ann.who(), [&] { return static_cast<long>(::removexattr(f.c_str(), "user.a")); }).str() == "ok");

  CHECK(call_as(ann.who(), set_xattr(f, "trusted.t")).str() == "EPERM");
  CHECK(call_as(root_user(), set_xattr(f, "trusted.t")).str() == "EPERM");
  CHECK(call_as(root_user(), set_xattr(f, "security.s")).str() == "EPERM");
  CHECK(call_as(root_user(), [&] { return static_cast<long>(::removexattr(f.c_str(), "trusted.planted")); })
            .str() == "EPERM");
  CHECK(run_as(root_user(), [&] { return xattr_of(f, "trusted.planted"); }) == "ENODATA");

  CHECK(xattr_of(web + "/f", "trusted.planted") == "root");
  CHECK(xattr_of(web + "/f", "trusted.t") == "ENODATA");
  CHECK(xattr_of(web + "/f", "security.s") == "ENODATA");
  CHECK(xattr_of(web + "/f", "user.a") == "ENODATA");
}

TEST_CASE("fifos and devices planted in a volume are refused on open, without blocking", "[policy][special]") {
  MountedView v;
  const std::string native = v.native_dir("ann", ann);
  const std::string web = v.add_volume("web");
  REQUIRE(::mkfifo((native + "/fifo").c_str(), 0666) == 0);
  REQUIRE(::mkfifo((web + "/fifo").c_str(), 0666) == 0);
  REQUIRE(::lchown((web + "/fifo").c_str(), kVolumeOwner, kVolumeOwner) == 0);
  REQUIRE(::mknod((web + "/null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)) == 0);
  v.start(ViewSpec{{ann}, {"web:ann:web"}});
  // Natively the fifo opens (non-blocking, as nobody writes to it).
  CHECK(call_as(ann.who(), open_path(native + "/fifo", O_RDONLY | O_NONBLOCK)).str() == "ok");

  const std::string view = v.home(ann) + "/web";
  // Listed (so it can be removed), but never as something the client's
  // kernel would open by itself.
  CHECK(names_in(view) == std::vector<std::string>{"fifo", "null"});
  CHECK_FALSE(S_ISFIFO(lstat_of(view + "/fifo").st_mode));
  CHECK_FALSE(S_ISCHR(lstat_of(view + "/null").st_mode));
  // A blocking open would hang the sftp session: the child's alarm turns a
  // hang into a failure.
  CHECK(call_as(ann.who(), open_path(view + "/fifo", O_RDONLY), 5).str() == "EACCES");
  CHECK(call_as(ann.who(), open_path(view + "/fifo", O_WRONLY | O_NONBLOCK), 5).str() == "EACCES");
  CHECK(call_as(root_user(), open_path(view + "/fifo", O_RDWR), 5).str() == "EACCES");
  CHECK(call_as(root_user(), open_path(view + "/null", O_RDONLY), 5).str() == "EACCES");
  CHECK(call_as(ann.who(), open_path(view + "/null", O_WRONLY), 5).str() == "EACCES");
  CHECK(call_as(ann.who(), [&] { return static_cast<long>(::unlink((view + "/fifo").c_str())); }).str() == "ok");
  CHECK_FALSE(exists(web + "/fifo"));
}
