// Atomic uploads seen at the syscall level: a file opened with O_TRUNC in an
// atomic mapping keeps its old content on disk until it is closed, then is
// replaced as a whole (mode and stored owner kept); files that cannot be
// replaced as a whole are truncated in place. New files: tests/hostile.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

// Opens `path` with O_WRONLY|O_TRUNC (plus `flags`) and writes `text`; the
// caller closes.
int open_and_write(const std::string& path, const std::string& text, int flags = 0) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | flags);
  if (fd >= 0 && ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TEST_CASE("an overwrite keeps the old file on disk until close, then replaces it whole", "[uploads]") {
  MountedView v;
  const Folders f = start_web(v);
  write_file(f.backing + "/site", "old content, longer than the new", kVolumeOwner, kVolumeOwner, 0640);
  const ino_t before = lstat_of(f.backing + "/site").st_ino;
  const int fd = open_and_write(f.view + "/site", "new content");
  REQUIRE(fd >= 0);
  // Meanwhile a consumer of the volume sees the old file, whole.
  CHECK(read_file(f.backing + "/site") == "old content, longer than the new");
  CHECK(lstat_of(f.backing + "/site").st_ino == before);
  REQUIRE(::close(fd) == 0);
  const struct stat st = lstat_of(f.backing + "/site");
  CHECK(read_file(f.backing + "/site") == "new content");
  CHECK(st.st_ino != before);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(st.st_uid == kVolumeOwner);
  CHECK(st.st_gid == kVolumeOwner);
  // Through the view at once (no stale attributes or pages of the old file).
  CHECK(lstat_of(f.view + "/site").st_size == 11);
  CHECK(read_file(f.view + "/site") == "new content");
  CHECK(names_in(f.backing) == std::vector<std::string>{"site"});
  // A second overwrite of the same (kernel-cached) file works the same way.
  const int again = open_and_write(f.view + "/site", "third");
  REQUIRE(again >= 0);
  CHECK(read_file(f.backing + "/site") == "new content");
  REQUIRE(::close(again) == 0);
  CHECK(read_file(f.backing + "/site") == "third");
  CHECK(read_file(f.view + "/site") == "third");
  CHECK(names_in(f.backing) == std::vector<std::string>{"site"});
}

TEST_CASE("files that cannot be replaced whole are overwritten in place", "[uploads]") {
  MountedView v;
  const Folders f = start_web(v);
  // Hard-linked: replacing one name would split the link.
  write_file(f.backing + "/linked", "old", kVolumeOwner, kVolumeOwner, 0644);
  REQUIRE(::link((f.backing + "/linked").c_str(), (f.backing + "/other-name").c_str()) == 0);
  // Another owner's file the user may write: replacing it would change its owner.
  write_file(f.backing + "/theirs", "old", 4242, 4242, 0666);
  for (const char* name : {"/linked", "/theirs"}) {
    INFO(name);
    const ino_t before = lstat_of(f.backing + name).st_ino;
    const int fd = open_and_write(f.view + name, "new");
    REQUIRE(fd >= 0);
    CHECK(read_file(f.backing + name) == "new");  // in place, at once
    REQUIRE(::close(fd) == 0);
    CHECK(lstat_of(f.backing + name).st_ino == before);
  }
  CHECK(read_file(f.backing + "/other-name") == "new");
  CHECK(lstat_of(f.backing + "/theirs").st_uid == 4242u);
}

TEST_CASE("appending and non-atomic mappings write in place", "[uploads]") {
  MountedView v;
  const Folders f = start_web(v, ":noatomic");
  write_file(f.backing + "/log", "old", kVolumeOwner, kVolumeOwner, 0644);
  const ino_t before = lstat_of(f.backing + "/log").st_ino;
  const int fd = open_and_write(f.view + "/log", "new");
  REQUIRE(fd >= 0);
  CHECK(read_file(f.backing + "/log") == "new");
  REQUIRE(::close(fd) == 0);
  CHECK(lstat_of(f.backing + "/log").st_ino == before);
  const int app = ::open((f.view + "/log").c_str(), O_WRONLY | O_APPEND);
  REQUIRE(app >= 0);
  REQUIRE(::write(app, "+", 1) == 1);
  REQUIRE(::close(app) == 0);
  CHECK(read_file(f.backing + "/log") == "new+");
  CHECK(lstat_of(f.backing + "/log").st_ino == before);
}

TEST_CASE("a file removed while being overwritten stays removed, and the close says so", "[uploads]") {
  MountedView v;
  const Folders f = start_web(v);
  write_file(f.backing + "/gone", "old", kVolumeOwner, kVolumeOwner, 0644);
  const int fd = open_and_write(f.view + "/gone", "new");
  REQUIRE(fd >= 0);
  REQUIRE(::unlink((f.backing + "/gone").c_str()) == 0);  // by another container
  errno = 0;
  CHECK(::close(fd) == -1);
  CHECK(errno == ECANCELED);
  CHECK_FALSE(exists(f.backing + "/gone"));
  CHECK(names_in(f.backing).empty());
}

namespace {

// The tag of the gateways of this run (they share a state folder), as
// gateway/serve/instance_tag.hpp keeps it: made here when no gateway has
// started yet, so the temporaries written before a start can carry it.
std::string instance_tag() {
  const std::string path = MountedView::state_dir() + "/instance";
  std::string tag;
  if (std::ifstream in(path); in) std::getline(in, tag);
  if (tag.size() == 8) return tag;
  std::ofstream(path) << "0badc0de\n";
  return "0badc0de";
}

}  // namespace

TEST_CASE("temporaries a dead worker left are removed on the mapping's first lookup, after a start or a reload, "
          "never by a listing",
          "[uploads]") {
  MountedView v;
  const std::string own = ".gw-upload-" + instance_tag() + "-";
  const std::string web = v.add_volume("web");
  const std::string parked = v.add_volume("parked");  // not mapped
  make_dir(web + "/deep", kVolumeOwner, kVolumeOwner, 0755);
  make_dir(web + "/deep/er", kVolumeOwner, kVolumeOwner, 0755);
  make_dir(parked + "/sub", kVolumeOwner, kVolumeOwner, 0755);
  // Left by a dead worker, at the top and deep down.
  const std::string stale = web + "/" + own + "0011223344556677";
  const std::string stale_deep = web + "/deep/er/" + own + "1122334455667788";
  write_file(stale, "partial", kVolumeOwner, kVolumeOwner, 0644);
  write_file(stale_deep, "partial", kVolumeOwner, kVolumeOwner, 0644);
  // Not the stored owner's: not the gateway's, left alone.
  const std::string foreign = web + "/" + own + "ffeeddccbbaa9988";
  write_file(foreign, "theirs", 4242, 4242, 0644);
  // Another instance's (a replica serving the same volume): its upload may
  // be in progress with its client paused; not this instance's to remove.
  const std::string replicas = web + "/.gw-upload-12345678-0011223344556677";
  write_file(replicas, "theirs, in progress", kVolumeOwner, kVolumeOwner, 0644);
  // Moved into the volume later (a rename changes the folder's ctime, not
  // its files'): as old as the others, but not there at the start.
  write_file(parked + "/sub/" + own + "2233445566778899", "partial", kVolumeOwner, kVolumeOwner, 0644);
  // In a read-only mapping: never written, not even to clean up.
  const std::string shelf = v.add_volume("shelf");
  const std::string stale_ro = shelf + "/" + own + "3344556677889900";
  write_file(stale_ro, "partial", kVolumeOwner, kVolumeOwner, 0644);
  ::sleep(1);  // their ctime (which no one can set back) must be before the worker's start
  const std::string config = v.tree() / "gateway.conf";
  std::ofstream(config) << "map = web:ann:web\nmap = shelf:ann:shelf:ro\n";
  v.start(ViewSpec{{ann}, {}, {"--config", config}});
  // A mapping is swept in the background on its first lookup; its debug
  // line (the mount tier logs at debug) says when its tree was walked.
  const auto swept = [&](const std::string& label) {
    return v.process().log().find(label + ": swept ") != std::string::npos;
  };
  const auto sweep_done = [&](const std::string& label) {
    for (int i = 0; i < 100; ++i) {
      if (swept(label)) return true;
      ::usleep(100 * 1000);
    }
    return false;
  };
  // Not at the start: a start walks no volume before someone uses it.
  ::usleep(300 * 1000);
  CHECK_FALSE(swept("ann:web"));
  CHECK(exists(stale));
  // Gone once the mapping was first looked up (here by a stat of it),
  // before anything in it was listed.
  CHECK(S_ISDIR(lstat_of(v.home(ann) + "/web").st_mode));
  REQUIRE(sweep_done("ann:web"));
  CHECK_FALSE(exists(stale));
  CHECK_FALSE(exists(stale_deep));
  CHECK(exists(foreign));
  CHECK(exists(replicas));
  CHECK(exists(stale_ro));
  CHECK(S_ISDIR(lstat_of(v.home(ann) + "/shelf").st_mode));  // looked up: read-only, so never swept
  CHECK(exists(stale_ro));
  CHECK(v.process().log().find("left by an interrupted upload") != std::string::npos);
  // Written since this worker started: may be an upload in progress, kept.
  const std::string fresh = web + "/" + own + "0123456789abcdef";
  write_file(fresh, "in progress", kVolumeOwner, kVolumeOwner, 0644);
  REQUIRE(::rename((parked + "/sub").c_str(), (web + "/sub").c_str()) == 0);
  const std::string moved = web + "/sub/" + own + "2233445566778899";
  // Listings and lookups hide temporaries and delete nothing.
  CHECK(names_in(v.home(ann) + "/web") == std::vector<std::string>{"deep", "sub"});
  CHECK(names_in(v.home(ann) + "/web/sub").empty());
  CHECK_FALSE(exists(v.home(ann) + "/web/sub/" + own + "2233445566778899"));
  CHECK(exists(moved));
  // A reload that maps the folder again: the new mapping is swept on its first lookup.
  std::ofstream(config, std::ios::app) << "map = web:ann:again\n";
  bool reloaded = false;
  for (int i = 0; i < 100 && !reloaded; ++i) {
    reloaded = exists(v.home(ann) + "/again");
    if (!reloaded) ::usleep(100 * 1000);
  }
  REQUIRE(reloaded);  // exists() looked the new mapping up
  REQUIRE(sweep_done("ann:again"));
  CHECK_FALSE(exists(moved));
  CHECK(exists(fresh));
  CHECK(exists(foreign));
}

TEST_CASE("an overwrite survives times set on it and a listing before its close", "[uploads]") {
  MountedView v;
  const Folders f = start_web(v);
  write_file(f.backing + "/site", "old", kVolumeOwner, kVolumeOwner, 0644);
  const int fd = open_and_write(f.view + "/site", "new");
  REQUIRE(fd >= 0);
  // What `put -p` does before closing: old times on the file being written.
  const struct timespec old_times[2] = {{1000000000, 0}, {1000000000, 0}};
  REQUIRE(::futimens(fd, old_times) == 0);
  CHECK(names_in(f.view) == std::vector<std::string>{"site"});  // a listing (which hides temporaries)
  REQUIRE(::close(fd) == 0);
  CHECK(read_file(f.backing + "/site") == "new");
  CHECK(lstat_of(f.backing + "/site").st_mtime == 1000000000);
  CHECK(names_in(f.backing) == std::vector<std::string>{"site"});
}

TEST_CASE("two overwrites of one file at once: the first to close wins, the other is told", "[uploads]") {
  MountedView v;
  const Folders f = start_web(v);
  write_file(f.backing + "/site", "old", kVolumeOwner, kVolumeOwner, 0644);
  const int first = open_and_write(f.view + "/site", "first");
  const int second = open_and_write(f.view + "/site", "second");
  REQUIRE(first >= 0);
  REQUIRE(second >= 0);
  CHECK(read_file(f.backing + "/site") == "old");
  REQUIRE(::close(second) == 0);
  CHECK(read_file(f.backing + "/site") == "second");
  CHECK(read_file(f.view + "/site") == "second");
  errno = 0;
  CHECK(::close(first) == -1);
  CHECK(errno == ECANCELED);
  CHECK(read_file(f.backing + "/site") == "second");
  CHECK(read_file(f.view + "/site") == "second");
  CHECK(names_in(f.backing) == std::vector<std::string>{"site"});
}

TEST_CASE("a file that replaced another gets its own inode when the old number is reused", "[uploads]") {
  MountedView v;
  const Folders f = start_web(v);
  // Overwrite many files; each replaced inode number is free for the
  // filesystem to reuse for the files made next. Every name must still
  // read back as its own content through the view.
  constexpr int kFiles = 40;
  for (int i = 0; i < kFiles; ++i)
    write_file(f.backing + "/f" + std::to_string(i), "old", kVolumeOwner, kVolumeOwner, 0644);
  for (int i = 0; i < kFiles; ++i) {
    const int fd = open_and_write(f.view + "/f" + std::to_string(i), "new " + std::to_string(i));
    REQUIRE(fd >= 0);
    REQUIRE(::close(fd) == 0);
  }
  for (int i = 0; i < kFiles; ++i)
    write_file(f.backing + "/g" + std::to_string(i), "g " + std::to_string(i), kVolumeOwner, kVolumeOwner, 0644);
  for (int i = 0; i < kFiles; ++i) {
    INFO(i);
    CHECK(read_file(f.view + "/f" + std::to_string(i)) == "new " + std::to_string(i));
    CHECK(read_file(f.view + "/g" + std::to_string(i)) == "g " + std::to_string(i));
  }
}

// A fresh ext4 filesystem on a loop device mounted on `dir`, owned by the
// volume's owner: like a volume's filesystem it gives a freed inode number
// to the next file made, and, having no other holes, predictably so.
class FreshExt4 {
 public:
  explicit FreshExt4(const std::string& dir) : dir_(dir), image_(dir + ".img") {
    const std::string command = "truncate -s 32M '" + image_ + "' && mkfs.ext4 -q -F '" + image_ +
                                "' && mount -o loop '" + image_ + "' '" + dir_ + "'";
    mounted_ = std::system(command.c_str()) == 0 && ::chown(dir_.c_str(), kVolumeOwner, kVolumeOwner) == 0 &&
               ::chmod(dir_.c_str(), 0755) == 0;
  }
  ~FreshExt4() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    ::unlink(image_.c_str());
  }
  FreshExt4(const FreshExt4&) = delete;
  FreshExt4& operator=(const FreshExt4&) = delete;
  bool mounted() const { return mounted_; }

 private:
  std::string dir_, image_;
  bool mounted_ = false;
};

TEST_CASE("a new object gets its own inode when another container freed the number of one the view knew",
          "[uploads]") {
  std::unique_ptr<FreshExt4> fs;  // declared first, so destroyed after v: unmounted once the gateway stopped
  MountedView v;
  const std::string backing = v.add_volume("web");
  fs = std::make_unique<FreshExt4>(backing);
  REQUIRE(fs->mounted());  // mkfs.ext4 (e2fsprogs), a loop device, and the volume's owner and mode on it
  // Atomic (a temporary renamed into place) and in place, as in homes.
  const std::string options = GENERATE(std::string(""), std::string(":noatomic"));
  INFO("mapping options: " << options);
  // A low open-file limit: the gateway's cache of descriptors holds 64.
  ViewSpec spec{{ann}, {"web:ann:web" + options}};
  spec.fd_limit = 256;
  v.start(spec);
  const std::string view = v.home(ann) + "/web";
  // Folders and files the kernel knows through the view (each file read,
  // so its pages are cached), then removed by another container on the
  // backing folder; the view is not told. Lookups of more names than the
  // descriptor cache holds first, so the gateway keeps no descriptor that
  // would keep the old objects alive: their numbers are free.
  constexpr int kOld = 20, kOthers = 200;
  std::set<ino_t> freed, old_view_inodes;
  for (int i = 0; i < kOld; ++i) {
    const std::string dir = "/olddir" + std::to_string(i), file = "/old" + std::to_string(i);
    make_dir(backing + dir, kVolumeOwner, kVolumeOwner, 0755);
    write_file(backing + file, "old content " + std::to_string(i), kVolumeOwner, kVolumeOwner, 0644);
    old_view_inodes.insert(lstat_of(view + dir).st_ino);
    old_view_inodes.insert(lstat_of(view + file).st_ino);
    REQUIRE(read_file(view + file) == "old content " + std::to_string(i));
    freed.insert(lstat_of(backing + dir).st_ino);
    freed.insert(lstat_of(backing + file).st_ino);
  }
  for (int i = 0; i < kOthers; ++i) {
    const std::string name = "/other" + std::to_string(i);
    write_file(backing + name, "other", kVolumeOwner, kVolumeOwner, 0644);
    lstat_of(view + name);
  }
  for (int i = 0; i < kOld; ++i) {
    REQUIRE(::rmdir((backing + "/olddir" + std::to_string(i)).c_str()) == 0);
    REQUIRE(::unlink((backing + "/old" + std::to_string(i)).c_str()) == 0);
  }
  // New objects take those numbers: folders and files made through the
  // view, and files the other container writes (same length as the old
  // content, another text). Each must be a new inode of the view: the old
  // one's handle, attributes and cached pages are not the new object's.
  int reused = 0;
  for (int i = 0; i < kOld; ++i) {
    INFO(i);
    const std::string dir = "/newdir" + std::to_string(i), file = "/new" + std::to_string(i),
                      theirs = "/theirs" + std::to_string(i);
    REQUIRE(::mkdir((view + dir).c_str(), 0755) == 0);
    const int fd = ::open((view + file).c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "new", 3) == 3);
    REQUIRE(::close(fd) == 0);
    write_file(backing + theirs, "NEW CONTENT " + std::to_string(i), kVolumeOwner, kVolumeOwner, 0644);
    for (const std::string& name : {dir, file, theirs}) {
      INFO(name);
      reused += static_cast<int>(freed.count(lstat_of(backing + name).st_ino));
      CHECK(old_view_inodes.count(lstat_of(view + name).st_ino) == 0);
    }
    CHECK(read_file(view + theirs) == "NEW CONTENT " + std::to_string(i));
    const int inner = ::open((view + dir + "/inner").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    CHECK(inner >= 0);
    if (inner >= 0) ::close(inner);
    const struct timespec times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
    CHECK(::utimensat(AT_FDCWD, (view + file).c_str(), times, 0) == 0);
    CHECK(read_file(view + file) == "new");
  }
  REQUIRE(reused > 0);  // the numbers were reused; otherwise this proved nothing
}

TEST_CASE("a file renamed onto an upload in progress keeps the name; the upload is dropped", "[uploads]") {
  MountedView v;
  const Folders f = start_web(v);
  write_file(f.backing + "/a", "a", kVolumeOwner, kVolumeOwner, 0644);
  const int up = ::open((f.view + "/b").c_str(), O_CREAT | O_WRONLY | O_EXCL, 0644);
  REQUIRE(up >= 0);
  REQUIRE(::write(up, "upload", 6) == 6);
  // The view shows b at once, so a rename that must not replace fails.
  CHECK(::renameat2(AT_FDCWD, (f.view + "/a").c_str(), AT_FDCWD, (f.view + "/b").c_str(), RENAME_NOREPLACE) == -1);
  CHECK(errno == EEXIST);
  REQUIRE(::rename((f.view + "/a").c_str(), (f.view + "/b").c_str()) == 0);
  REQUIRE(::close(up) == 0);
  CHECK(read_file(f.backing + "/b") == "a");
  CHECK(read_file(f.view + "/b") == "a");
  CHECK(names_in(f.backing) == std::vector<std::string>{"b"});
}
