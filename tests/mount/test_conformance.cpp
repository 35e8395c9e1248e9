// Conformance of the permitted namespace and attribute operations: the same
// script, run as the sftp user on a native folder the user owns and on a
// mapped volume through the view, must give the same results and errnos.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// Names: creation, removal, renames of every kind, and their error cases.
void names_script(Transcript& t) {
  t.call("mkdir d", ::mkdir("d", 0755));
  t.call("mkdir d again", ::mkdir("d", 0755));
  t.call("mkdir missing/x", ::mkdir("missing/x", 0755));
  t.open("create f", ::open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
  t.open("create f exclusive again", ::open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
  t.open("create d/inner", ::open("d/inner", O_CREAT | O_WRONLY, 0600));
  t.call("mkdir f/x", ::mkdir("f/x", 0755));
  t.open("open f/x", ::open("f/x", O_RDONLY));
  t.open("open d for writing", ::open("d", O_WRONLY));
  t.open("open f as directory", ::open("f", O_RDONLY | O_DIRECTORY));
  t.open("open nope", ::open("nope", O_RDONLY));
  t.call("rmdir d", ::rmdir("d"));
  t.call("rmdir f", ::rmdir("f"));
  t.call("rmdir nope", ::rmdir("nope"));
  t.call("unlink d", ::unlink("d"));
  t.call("unlink nope", ::unlink("nope"));
  t.call("rename f g", ::rename("f", "g"));
  t.call("rename f g again", ::rename("f", "g"));
  t.call("mkdir e", ::mkdir("e", 0700));
  t.call("rename file over dir", ::rename("g", "e"));
  t.call("rename dir over file", ::rename("e", "g"));
  t.call("rename dir over non-empty dir", ::rename("e", "d"));
  t.call("rename dir into itself", ::rename("d", "d/sub"));
  t.call("rename noreplace", ::renameat2(AT_FDCWD, "g", AT_FDCWD, "d", RENAME_NOREPLACE));
  t.call("mkdir e2", ::mkdir("e2", 0755));
  t.call("rename dir over empty dir", ::rename("e", "e2"));
  t.call("rename exchange", ::renameat2(AT_FDCWD, "g", AT_FDCWD, "e2", RENAME_EXCHANGE));
  for (const char* p : {"g", "e2", "d", "d/inner", "e"}) t.stat(p);
  t.list(".");
  t.call("unlink d/inner", ::unlink("d/inner"));
  t.call("rmdir d", ::rmdir("d"));
  t.call("rmdir g", ::rmdir("g"));
  t.call("unlink e2", ::unlink("e2"));
  t.list(".");
}

// Names of NAME_MAX (255) bytes work; one byte more is ENAMETOOLONG for
// every call that takes a name, as pjdfstest's */02.t expects.
void long_names_script(Transcript& t) {
  const std::string ok(255, 'a');
  const std::string ok_dir(255, 'd');
  const std::string over(256, 'b');
  t.open("create 255", ::open(ok.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644));
  t.call("mkdir 255", ::mkdir(ok_dir.c_str(), 0755));
  t.call("chmod 255", ::chmod(ok.c_str(), 0600));
  t.call("truncate 255", ::truncate(ok.c_str(), 3));
  t.stat(ok);
  t.open("open 256", ::open(over.c_str(), O_RDONLY));
  t.open("create 256", ::open(over.c_str(), O_CREAT | O_WRONLY, 0644));
  t.open("create 256 exclusive", ::open(over.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644));
  t.call("mkdir 256", ::mkdir(over.c_str(), 0755));
  t.call("mkdir 255/256", ::mkdir((ok_dir + "/" + over).c_str(), 0755));
  t.call("rename 255 to 256", ::rename(ok.c_str(), over.c_str()));
  t.call("rename 256 to 255", ::rename(over.c_str(), ok.c_str()));
  t.call("rename noreplace to 256", ::renameat2(AT_FDCWD, ok.c_str(), AT_FDCWD, over.c_str(), RENAME_NOREPLACE));
  t.call("link 255 to 256", ::link(ok.c_str(), over.c_str()));
  t.call("symlink 256", ::symlink(ok.c_str(), over.c_str()));
  t.call("unlink 256", ::unlink(over.c_str()));
  t.call("rmdir 256", ::rmdir(over.c_str()));
  t.call("chmod 256", ::chmod(over.c_str(), 0600));
  t.call("truncate 256", ::truncate(over.c_str(), 0));
  const struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  t.call("utimens 256", ::utimensat(AT_FDCWD, over.c_str(), now, 0));
  t.call("access 256", ::access(over.c_str(), F_OK));
  t.stat(over);
  t.call("rename 255 to 255", ::rename(ok.c_str(), (ok_dir + "/" + ok).c_str()));
  t.list(ok_dir);
  t.call("unlink 255", ::unlink((ok_dir + "/" + ok).c_str()));
  t.call("rmdir 255", ::rmdir(ok_dir.c_str()));
  t.stat(ok_dir);
}

std::string times_of(const char* path) {
  struct stat st {};
  if (::lstat(path, &st) != 0) return errno_name(errno);
  char text[96];
  std::snprintf(text, sizeof text, "atime %lld.%09ld mtime %lld.%09ld", static_cast<long long>(st.st_atim.tv_sec),
                st.st_atim.tv_nsec, static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
  return text;
}

// utimensat with UTIME_NOW: the new mtime lies between two clock readings.
std::string touched_now(const char* path) {
  struct timespec before {};
  ::clock_gettime(CLOCK_REALTIME, &before);
  const struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  if (::utimensat(AT_FDCWD, path, now, 0) != 0) return errno_name(errno);
  struct stat st {};
  ::lstat(path, &st);
  // Coarse-grained timestamps may lie up to one tick before `before`.
  return st.st_mtim.tv_sec + 1 >= before.tv_sec && st.st_mtim.tv_sec <= before.tv_sec + 5 ? "recent" : "wrong";
}

void attributes_script(Transcript& t) {
  const int fd = ::open("f", O_CREAT | O_WRONLY, 0644);
  t.call("write f", ::write(fd, "0123456789", 10));
  ::close(fd);
  t.stat("f");
  t.call("chmod f 0600", ::chmod("f", 0600));
  t.stat("f");
  t.call("access f x", ::access("f", X_OK));
  t.call("chmod f 0751", ::chmod("f", 0751));
  t.stat("f");
  t.call("truncate f 4", ::truncate("f", 4));
  t.stat("f");
  t.call("truncate f 100", ::truncate("f", 100));
  t.stat("f");
  const int rw = ::open("f", O_RDWR);
  t.call("ftruncate f 7", ::ftruncate(rw, 7));
  ::close(rw);
  t.stat("f");
  t.open("open f with O_TRUNC", ::open("f", O_RDONLY | O_TRUNC));
  t.stat("f");
  t.call("truncate f -1", ::truncate("f", -1));
  t.call("mkdir d", ::mkdir("d", 0755));
  t.call("truncate d", ::truncate("d", 0));
  t.call("truncate nope", ::truncate("nope", 0));
  t.call("chmod d 0700", ::chmod("d", 0700));
  t.stat("d");
  t.call("chmod nope", ::chmod("nope", 0600));
  t.note("utimens f now", touched_now("f"));
  const struct timespec set[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
  t.call("utimens f", ::utimensat(AT_FDCWD, "f", set, 0));
  t.note("times f", times_of("f"));
  const struct timespec mtime_only[2] = {{0, UTIME_OMIT}, {1300000000, 5}};
  t.call("utimens f mtime only", ::utimensat(AT_FDCWD, "f", mtime_only, 0));
  t.note("times f", times_of("f"));
  t.call("utimens d", ::utimensat(AT_FDCWD, "d", set, 0));
  t.note("times d", times_of("d"));
  t.call("utimens nope", ::utimensat(AT_FDCWD, "nope", set, 0));
}

// The modes a client asks for, under the client's umask only.
void modes_script(Transcript& t) {
  for (const mode_t mask : {0000, 0002, 0077}) {
    ::umask(mask);
    const std::string m = std::to_string(mask);
    t.open("create f" + m + " 0666", ::open(("f" + m).c_str(), O_CREAT | O_WRONLY, 0666));
    t.call("mkdir d" + m + " 0777", ::mkdir(("d" + m).c_str(), 0777));
    t.stat("f" + m);
    t.stat("d" + m);
  }
}

// More entries than one readdir reply holds, so offsets are exercised.
void listing_script(Transcript& t) {
  for (int i = 0; i < 400; ++i) {
    const std::string name = "entry-with-a-longish-name-" + std::to_string(i);
    if (i % 10 == 0) ::mkdir(name.c_str(), 0755);
    else ::close(::open(name.c_str(), O_CREAT | O_WRONLY, 0644));
  }
  t.list(".");
  DIR* d = ::opendir(".");
  std::size_t first = 0;
  std::size_t second = 0;
  while (::readdir(d)) ++first;
  ::rewinddir(d);
  while (::readdir(d)) ++second;
  ::closedir(d);
  t.note("entries read, then after rewinddir", std::to_string(first) + " " + std::to_string(second));
}

}  // namespace

TEST_CASE("names: mkdir, rmdir, unlink, rename and open behave as on a native folder", "[conformance]") {
  MountedView v;
  const Folders f = start_web(v);
  const auto native = transcript_as(ann.who(), f.native, names_script);
  const auto view = transcript_as(ann.who(), f.view, names_script);
  // The script reaches the error cases it means to (checked on the native run).
  for (const char* line : {"mkdir d again -> EEXIST", "mkdir missing/x -> ENOENT", "open f/x -> ENOTDIR",
                           "open d for writing -> EISDIR", "rmdir d -> ENOTEMPTY", "unlink d -> EISDIR",
                           "rename file over dir -> EISDIR", "rename dir over file -> ENOTDIR",
                           "rename dir over non-empty dir -> ENOTEMPTY", "rename noreplace -> EEXIST",
                           "rename exchange -> ok"}) {
    INFO(line);
    CHECK(has(native, line));
  }
  require_same(native, view);
  // What the view did landed in the backing store.
  CHECK(names_in(f.backing).empty());
}

TEST_CASE("a name over 255 bytes is ENAMETOOLONG for every call, as on a native folder", "[conformance]") {
  MountedView v;
  const Folders f = start_web(v);
  const auto native = transcript_as(ann.who(), f.native, long_names_script);
  for (const char* line : {"create 255 -> ok", "mkdir 255 -> ok", "rename 255 to 255 -> ok", "open 256 -> ENAMETOOLONG",
                           "create 256 -> ENAMETOOLONG", "mkdir 256 -> ENAMETOOLONG", "rename 255 to 256 -> ENAMETOOLONG",
                           "rename 256 to 255 -> ENAMETOOLONG", "link 255 to 256 -> ENAMETOOLONG",
                           "unlink 256 -> ENAMETOOLONG", "rmdir 256 -> ENAMETOOLONG", "chmod 256 -> ENAMETOOLONG",
                           "truncate 256 -> ENAMETOOLONG"}) {
    INFO(line);
    CHECK(has(native, line));
  }
  // In a volume, in the home, and at the chroot's top (the view's own folder).
  require_same(native, transcript_as(ann.who(), f.view, long_names_script));
  require_same(native, transcript_as(ann.who(), v.home(ann), long_names_script));
  CHECK(names_in(f.backing).empty());
  const std::string over(256, 'b');
  for (const auto& [what, rc] : std::vector<std::pair<std::string, Outcome>>{
           {"mkdir", call_as(ann.who(), [&] { return static_cast<long>(::mkdir((v.chroot_of(ann) + "/" + over).c_str(), 0755)); })},
           {"stat", call_as(ann.who(), [&] {
              struct stat st {};
              return static_cast<long>(::lstat((v.chroot_of(ann) + "/" + over).c_str(), &st));
            })}}) {
    INFO(what << " at the chroot's top");
    CHECK(rc.str() == "ENAMETOOLONG");
  }
}

TEST_CASE("attributes: stat, chmod, truncate and utimens behave as on a native folder", "[conformance]") {
  MountedView v;
  const Folders f = start_web(v);
  const auto native = transcript_as(ann.who(), f.native, attributes_script);
  const auto view = transcript_as(ann.who(), f.view, attributes_script);
  for (const char* line : {"stat f: reg 0644 61000:61000 size=10 nlink=1", "access f x -> EACCES",
                           "truncate d -> EISDIR", "truncate f -1 -> EINVAL", "utimens f now: recent",
                           "times f: atime 1000000000.123456789 mtime 1200000000.987654321"}) {
    INFO(line);
    CHECK(has(native, line));
  }
  require_same(native, view);
  const struct stat backing = lstat_of(f.backing + "/f");
  CHECK((backing.st_mode & 07777) == 0751);
  CHECK(backing.st_size == 0);
  CHECK(backing.st_mtim.tv_sec == 1300000000);
}

TEST_CASE("new files and folders get the requested mode under the client's umask", "[conformance]") {
  MountedView v;
  // A mapping's umask= applies on top of the client's (tests/mount/test_quota.cpp);
  // with umask=0000 the view adds nothing, as a native folder.
  const Folders f = start_web(v, ":umask=0000");
  const auto native = transcript_as(ann.who(), f.native, modes_script);
  const auto view = transcript_as(ann.who(), f.view, modes_script);
  CHECK(has(native, "stat f0: reg 0666 61000:61000 size=0 nlink=1"));
  CHECK(has(native, "stat d2: dir 0775 61000:61000 size=4096 nlink=2"));
  require_same(native, view);
  CHECK((lstat_of(f.backing + "/d0").st_mode & 07777) == 0777);
  // Only the workers' umask is cleared: what the gateway makes for itself
  // after mounting keeps the process umask.
  CHECK((lstat_of(MountedView::state_dir() + "/authorized_keys").st_mode & 022) == 0);
}

TEST_CASE("readdir lists the same names, across several replies and after rewinddir", "[conformance]") {
  MountedView v;
  const Folders f = start_web(v);
  const auto native = transcript_as(ann.who(), f.native, listing_script);
  const auto view = transcript_as(ann.who(), f.view, listing_script);
  CHECK(has(native, "entries read, then after rewinddir: 402 402"));
  require_same(native, view);
  CHECK(names_in(f.backing).size() == 400);
}

TEST_CASE("statfs reports the backing filesystem", "[conformance]") {
  MountedView v;
  const Folders f = start_web(v);
  struct statfs native {};
  struct statfs view {};
  REQUIRE(::statfs(f.native.c_str(), &native) == 0);
  REQUIRE(::statfs(f.view.c_str(), &view) == 0);
  CHECK(view.f_type == kFuseMagic);
  CHECK(view.f_bsize == native.f_bsize);
  CHECK(view.f_blocks == native.f_blocks);
  CHECK(view.f_files == native.f_files);
  CHECK(view.f_namelen == native.f_namelen);
  // Free space moves while other processes write; allow 1% of the size.
  const auto slack = native.f_blocks / 100;
  CHECK(view.f_bfree + slack >= native.f_bfree);
  CHECK(view.f_bfree <= native.f_bfree + slack);
  // And as the user (statfs is permitted to the tree's owner).
  const Outcome as_user = call_as(ann.who(), [&] {
    struct statfs st {};
    return ::statfs(f.view.c_str(), &st) == 0 ? static_cast<long>(st.f_blocks == native.f_blocks) : -1L;
  });
  CHECK(as_user.str() == "ok 1");
}
