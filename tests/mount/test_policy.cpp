// The view's refusals. Each is first shown working unrestricted on a native
// folder (the same user, or root where only root may do it natively), then
// refused through the view; the backing store is checked afterwards.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

using Call = std::function<long()>;

Call make_fifo(const std::string& p) {
  return [p] { return static_cast<long>(::mkfifo(p.c_str(), 0644)); };
}

Call make_device(const std::string& p) {
  return [p] { return static_cast<long>(::mknod(p.c_str(), S_IFCHR | 0666, ::makedev(1, 3))); };
}

// bind() of a unix socket creates its node with mknod(S_IFSOCK).
Call bind_socket(const std::string& p) {
  return [p] {
    const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, p.c_str(), sizeof addr.sun_path - 1);
    const long rc = ::bind(s, reinterpret_cast<const struct sockaddr*>(&addr), sizeof addr);
    const int err = errno;
    ::close(s);
    errno = err;
    return rc;
  };
}

Call make_symlink(const std::string& target, const std::string& p) {
  return [target, p] { return static_cast<long>(::symlink(target.c_str(), p.c_str())); };
}

Call hard_link(const std::string& from, const std::string& to) {
  return [from, to] { return static_cast<long>(::link(from.c_str(), to.c_str())); };
}

Call rename_to(const std::string& from, const std::string& to) {
  return [from, to] { return static_cast<long>(::rename(from.c_str(), to.c_str())); };
}

Call change_owner(const std::string& p, uid_t uid, gid_t gid) {
  return [p, uid, gid] { return static_cast<long>(::chown(p.c_str(), uid, gid)); };
}

Call create(const std::string& p) {
  return [p] {
    const int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) ::close(fd);
    return fd < 0 ? -1L : 0L;
  };
}

const uid_t kNone = static_cast<uid_t>(-1);

}  // namespace

TEST_CASE("fifos, sockets and device nodes cannot be made through the view", "[policy]") {
  MountedView v;
  const Folders f = start_web(v);
  CHECK(call_as(ann.who(), make_fifo(f.native + "/fifo")).str() == "ok");
  CHECK(call_as(ann.who(), bind_socket(f.native + "/sock")).str() == "ok");
  CHECK(call_as(root_user(), make_device(f.native + "/null")).str() == "ok");

  CHECK(call_as(ann.who(), make_fifo(f.view + "/fifo")).str() == "EPERM");
  CHECK(call_as(ann.who(), bind_socket(f.view + "/sock")).str() == "EPERM");
  CHECK(call_as(root_user(), make_fifo(f.view + "/fifo")).str() == "EPERM");
  CHECK(call_as(root_user(), make_device(f.view + "/null")).str() == "EPERM");
  CHECK(names_in(f.backing).empty());
}

TEST_CASE("setuid, setgid and sticky bits never reach the backing store", "[policy]") {
  MountedView v;
  const Folders f = start_web(v, ":umask=0000");  // no mask of the mapping's own: only the special bits go
  const Script script = [](Transcript& t) {
    ::umask(0);
    t.open("create f 6755", ::open("f", O_CREAT | O_WRONLY, 06755));
    t.call("mkdir d 1777", ::mkdir("d", 01777));
    t.open("create g", ::open("g", O_CREAT | O_WRONLY, 0644));
    t.call("mkdir e", ::mkdir("e", 0755));
    t.call("chmod g 4755", ::chmod("g", 04755));
    t.stat("g");
    t.call("chmod g 2711", ::chmod("g", 02711));
    t.stat("g");
    t.call("chmod e 3777", ::chmod("e", 03777));
    for (const char* p : {"f", "d", "e"}) t.stat(p);
  };
  const auto native = transcript_as(ann.who(), f.native, script);
  const std::vector<std::string> special = {"stat g: reg 4755 61000:61000 size=0 nlink=1",
                                            "stat g: reg 2711 61000:61000 size=0 nlink=1",
                                            "stat f: reg 6755 61000:61000 size=0 nlink=1"};
  for (const auto& line : special) {
    INFO(line);
    CHECK(std::find(native.begin(), native.end(), line) != native.end());
  }
  CHECK(native.back().find("stat e: dir 3777") == 0);
  const auto view = transcript_as(ann.who(), f.view, script);
  const std::vector<std::string> stripped = {
      "create f 6755 -> ok", "mkdir d 1777 -> ok", "create g -> ok", "mkdir e -> ok",
      "chmod g 4755 -> ok", "stat g: reg 0755 61000:61000 size=0 nlink=1",
      "chmod g 2711 -> ok", "stat g: reg 0711 61000:61000 size=0 nlink=1",
      "chmod e 3777 -> ok", "stat f: reg 0755 61000:61000 size=0 nlink=1",
      "stat d: dir 0777 61000:61000 size=4096 nlink=2", "stat e: dir 0777 61000:61000 size=4096 nlink=2"};
  require_same(stripped, view);
  for (const char* p : {"f", "d", "e", "g"}) {
    INFO(p);
    CHECK((lstat_of(f.backing + "/" + p).st_mode & 07000) == 0);
  }
}

TEST_CASE("chown and chgrp only to the user, whoever asks", "[policy]") {
  MountedView v;
  const Folders f = start_web(v);
  write_file(f.native + "/f", "x", ann.uid, ann.gid);
  CHECK(call_as(root_user(), change_owner(f.native + "/f", 4242, 4243)).str() == "ok");
  REQUIRE(call_as(ann.who(), create(f.view + "/f")).str() == "ok");
  const std::string p = f.view + "/f";
  CHECK(call_as(ann.who(), change_owner(p, ann.uid, ann.gid)).str() == "ok");
  CHECK(call_as(ann.who(), change_owner(p, 4242, kNone)).str() == "EPERM");
  CHECK(call_as(ann.who(), change_owner(p, kNone, 4243)).str() == "EPERM");
  CHECK(call_as(root_user(), change_owner(p, 4242, 4243)).str() == "EPERM");
  CHECK(call_as(root_user(), change_owner(p, kNone, 0)).str() == "EPERM");
  CHECK(call_as(root_user(), change_owner(p, 0, kNone)).str() == "EPERM");
  CHECK(call_as(root_user(), change_owner(p, ann.uid, ann.gid)).str() == "ok");
  const struct stat backing = lstat_of(f.backing + "/f");
  CHECK(backing.st_uid == kVolumeOwner);
  CHECK(backing.st_gid == kVolumeOwner);
  CHECK(lstat_of(p).st_uid == ann.uid);
}

TEST_CASE("symlinks: refused unless the mapping has the symlinks option, then stored verbatim", "[policy]") {
  MountedView v;
  const std::string native = v.native_dir("ann", ann);
  const std::string web = v.add_volume("web");
  const std::string pub = v.add_volume("pub");
  v.start(ViewSpec{{ann}, {"web:ann:web", "pub:ann:pub:symlinks"}});
  CHECK(call_as(ann.who(), make_symlink("/etc/passwd", native + "/l")).str() == "ok");

  CHECK(call_as(ann.who(), make_symlink("/etc/passwd", v.home(ann) + "/web/l")).str() == "EPERM");
  CHECK(call_as(ann.who(), make_symlink("/etc/passwd", v.home(ann) + "/l")).str() == "EPERM");
  CHECK(names_in(web).empty());
  CHECK(names_in(v.backing_home(ann)).empty());

  CHECK(call_as(ann.who(), make_symlink("/etc/passwd", v.home(ann) + "/pub/abs")).str() == "ok");
  CHECK(call_as(ann.who(), make_symlink("../../x", v.home(ann) + "/pub/rel")).str() == "ok");
  CHECK(read_link(pub + "/abs") == "/etc/passwd");
  CHECK(read_link(pub + "/rel") == "../../x");
  CHECK(lstat_of(pub + "/abs").st_uid == kVolumeOwner);
  const struct stat seen = lstat_of(v.home(ann) + "/pub/abs");
  CHECK(S_ISLNK(seen.st_mode));
  CHECK(seen.st_uid == ann.uid);
  CHECK(read_link(v.home(ann) + "/pub/abs") == "/etc/passwd");
}

TEST_CASE("hard links: within one mapping and only to the user's own files", "[policy]") {
  MountedView v;
  const std::string native = v.native_dir("ann", ann);
  const std::string web = v.add_volume("web");
  const std::string logs = v.add_volume("logs");
  write_file(web + "/other", "x", 4242, 4242, 0666);
  write_file(native + "/own", "x", ann.uid, ann.gid);
  write_file(native + "/other", "x", 4242, 4242, 0666);
  make_dir(native + "/sub", ann.uid, ann.gid, 0755);
  v.start(ViewSpec{{ann}, {"web:ann:web", "logs:ann:logs"}});
  CHECK(call_as(ann.who(), hard_link(native + "/own", native + "/sub/own")).str() == "ok");
  CHECK(call_as(ann.who(), hard_link(native + "/other", native + "/other2")).str() == "ok");

  const std::string home = v.home(ann);
  REQUIRE(call_as(ann.who(), create(home + "/web/own")).str() == "ok");
  CHECK(call_as(ann.who(), hard_link(home + "/web/own", home + "/web/own2")).str() == "ok");
  CHECK(lstat_of(web + "/own").st_ino == lstat_of(web + "/own2").st_ino);
  CHECK(lstat_of(home + "/web/own").st_nlink == 2);
  CHECK(call_as(ann.who(), hard_link(home + "/web/own", home + "/logs/own")).str() == "EXDEV");
  CHECK(call_as(ann.who(), hard_link(home + "/web/own", home + "/own")).str() == "EXDEV");
  CHECK(call_as(ann.who(), hard_link(home + "/web/other", home + "/web/other2")).str() == "EPERM");
  CHECK(call_as(root_user(), hard_link(home + "/web/other", home + "/web/other2")).str() == "EPERM");
  CHECK(names_in(logs).empty());
  CHECK(names_in(web) == std::vector<std::string>{"other", "own", "own2"});
  CHECK(lstat_of(web + "/other").st_nlink == 1);
}

TEST_CASE("rename across mappings is EXDEV and moves nothing", "[policy]") {
  MountedView v;
  const std::string native = v.native_dir("ann", ann);
  const std::string web = v.add_volume("web");
  const std::string logs = v.add_volume("logs");
  write_file(native + "/a", "a", ann.uid, ann.gid);
  make_dir(native + "/sub", ann.uid, ann.gid, 0755);
  write_file(web + "/a", "a", kVolumeOwner, kVolumeOwner);
  make_dir(web + "/d", kVolumeOwner, kVolumeOwner, 0755);
  v.start(ViewSpec{{ann}, {"web:ann:web", "logs:ann:logs"}});
  CHECK(call_as(ann.who(), rename_to(native + "/a", native + "/sub/a")).str() == "ok");

  const std::string home = v.home(ann);
  CHECK(call_as(ann.who(), rename_to(home + "/web/a", home + "/logs/a")).str() == "EXDEV");
  CHECK(call_as(ann.who(), rename_to(home + "/web/a", home + "/a")).str() == "EXDEV");
  CHECK(call_as(ann.who(), rename_to(home + "/web/d", home + "/logs/d")).str() == "EXDEV");
  CHECK(names_in(web) == std::vector<std::string>{"a", "d"});
  CHECK(names_in(logs).empty());
  CHECK(names_in(v.backing_home(ann)).empty());
}

TEST_CASE("mapped folders hide same-named home entries and cannot be removed or renamed", "[policy]") {
  MountedView v;
  const std::string native = v.native_dir("ann", ann);
  make_dir(native + "/web", ann.uid, ann.gid, 0755);
  make_dir(v.backing_home(ann), ann.uid, ann.gid, 0750);
  make_dir(v.backing_home(ann) + "/web", ann.uid, ann.gid, 0755);
  write_file(v.backing_home(ann) + "/web/home-only", "h", ann.uid, ann.gid);
  write_file(v.backing_home(ann) + "/x", "x", ann.uid, ann.gid);
  write_file(v.add_volume("web") + "/from-volume", "v", kVolumeOwner, kVolumeOwner);
  v.add_volume("empty");
  v.start(ViewSpec{{ann}, {"web:ann:web", "empty:ann:empty"}});
  CHECK(call_as(ann.who(), [&] { return static_cast<long>(::rmdir((native + "/web").c_str())); }).str() == "ok");

  const std::string home = v.home(ann);
  CHECK(names_in(home) == std::vector<std::string>{"empty", "web", "x"});
  CHECK(names_in(home + "/web") == std::vector<std::string>{"from-volume"});
  const auto rmdir_of = [](const std::string& p) { return [p] { return static_cast<long>(::rmdir(p.c_str())); }; };
  CHECK(call_as(ann.who(), rmdir_of(home + "/empty")).str() == "EBUSY");
  CHECK(call_as(root_user(), rmdir_of(home + "/empty")).str() == "EBUSY");
  CHECK(call_as(ann.who(), rename_to(home + "/empty", home + "/renamed")).str() == "EBUSY");
  REQUIRE(call_as(ann.who(), [&] { return static_cast<long>(::mkdir((home + "/dx").c_str(), 0755)); }).str() ==
          "ok");
  CHECK(call_as(ann.who(), rename_to(home + "/dx", home + "/empty")).str() == "EBUSY");
  CHECK(call_as(ann.who(), [&] { return static_cast<long>(::mkdir((home + "/web").c_str(), 0755)); }).str() ==
        "EEXIST");
  CHECK(exists(v.volume("empty")));
  CHECK(exists(v.backing_home(ann) + "/web/home-only"));
  CHECK(exists(v.backing_home(ann) + "/x"));
}
