// Confinement to the backing stores: symlinks planted by another writer are
// shown but never followed by the gateway, a directory swapped for a symlink
// mid-use never exposes the host, and mounts inside a volume are not entered.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <sstream>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

std::string read_or_errno(int dir, const char* path) {
  const int fd = ::openat(dir, path, O_RDONLY);
  if (fd < 0) return errno_name(errno);
  char buf[256];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return n < 0 ? errno_name(errno) : std::string(buf, static_cast<std::size_t>(n));
}

using Clock = std::chrono::steady_clock;

// The second writer: once told to start (a byte on `go`), swaps web/dir for
// a symlink to /etc and back, as fast as it can, until `until`.
pid_t start_swapper(const std::string& web, int go, Clock::time_point until) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  char c = 0;
  if (::read(go, &c, 1) != 1) ::_exit(2);
  const std::string dir = web + "/dir";
  const std::string aside = web + "/dir.aside";
  while (Clock::now() < until) {
    if (::rename(dir.c_str(), aside.c_str()) != 0 || ::symlink("/etc", dir.c_str()) != 0) ::_exit(1);
    ::usleep(500);
    if (::unlink(dir.c_str()) != 0 || ::rename(aside.c_str(), dir.c_str()) != 0) ::_exit(1);
    ::usleep(500);
  }
  ::_exit(0);
}

// Chrooted like sshd, ann opens dir (so the kernel holds it as a folder),
// starts the swapper, then reads dir/hostname by path and through the held
// descriptor: lookups under a folder that is now a symlink in the backing
// store. Returns "<safe> <host> <errors>" counts.
std::string read_while_swapping(const std::string& chroot, int go, Clock::time_point until) {
  return run_as(Who{ann.uid, ann.gid, chroot}, [go, until] {
    const int held = ::open("/ann/web/dir", O_RDONLY | O_DIRECTORY);
    if (held < 0) return std::string("cannot open dir: ") + errno_name(errno);
    if (::write(go, "g", 1) != 1) return std::string("cannot start the swapper");
    int safe = 0;
    int host = 0;
    int other = 0;
    while (Clock::now() < until) {
      for (const std::string& got : {read_or_errno(AT_FDCWD, "/ann/web/dir/hostname"),
                                     read_or_errno(held, "hostname")}) {
        if (got == "safe\n") ++safe;
        else if (got.size() > 1 && got[0] != 'E') ++host;
        else ++other;
      }
    }
    ::close(held);
    return std::to_string(safe) + " " + std::to_string(host) + " " + std::to_string(other);
  });
}

}  // namespace

TEST_CASE("a symlink to /etc planted in a volume is listed but never leads out of the chroot", "[confinement]") {
  MountedView v;
  const std::string web = v.add_volume("web");
  REQUIRE(::symlink("/etc", (web + "/link").c_str()) == 0);
  REQUIRE(::symlink("../../../../../../../../../etc", (web + "/rel").c_str()) == 0);
  REQUIRE(::symlink("/etc/hostname", (web + "/hostlink").c_str()) == 0);
  v.start(ViewSpec{{ann}, {"web:ann:web"}});
  const std::string view = v.home(ann) + "/web";
  CHECK(names_in(view) == std::vector<std::string>{"hostlink", "link", "rel"});
  CHECK(S_ISLNK(lstat_of(view + "/link").st_mode));
  CHECK(read_link(view + "/link") == "/etc");
  CHECK(read_link(view + "/rel") == "../../../../../../../../../etc");

  const Who jailed{ann.uid, ann.gid, v.chroot_of(ann)};
  const std::string seen = run_as(jailed, [] {
    return read_or_errno(AT_FDCWD, "/ann/web/link/hostname") + " " + read_or_errno(AT_FDCWD, "/ann/web/rel/hostname") +
           " " + read_or_errno(AT_FDCWD, "/ann/web/hostlink") + " " + read_or_errno(AT_FDCWD, "/ann/web/link/");
  });
  CHECK(seen == "ENOENT ENOENT ENOENT ENOENT");
  // The same call as root outside any chroot follows the link in its own
  // kernel: proof that the link is served as a link, not refused outright.
  CHECK(read_file(view + "/hostlink") == read_file("/etc/hostname"));
}

TEST_CASE("a folder swapped for a symlink to /etc mid-use never exposes the host's files", "[confinement]") {
  REQUIRE(read_file("/etc/hostname") != "safe\n");
  MountedView v;
  const std::string web = v.add_volume("web");
  make_dir(web + "/dir", kVolumeOwner, kVolumeOwner, 0755);
  write_file(web + "/dir/hostname", "safe\n", kVolumeOwner, kVolumeOwner);
  v.start(ViewSpec{{ann}, {"web:ann:web"}});
  // Longer than the 1 s entry/attribute cache, so lookups go to the gateway
  // while the swapping goes on.
  int go[2];
  REQUIRE(::pipe(go) == 0);
  const auto until = Clock::now() + std::chrono::milliseconds(1500);
  const pid_t swapper = start_swapper(web, go[0], until);
  const std::string counts = read_while_swapping(v.chroot_of(ann), go[1], until);
  ::close(go[0]);
  ::close(go[1]);
  if (counts.rfind("cannot", 0) == 0) ::kill(swapper, SIGKILL);
  int status = 0;
  ::waitpid(swapper, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::istringstream in(counts);
  int safe = -1;
  int host = -1;
  int other = -1;
  in >> safe >> host >> other;
  INFO(counts);
  INFO("reads of dir/hostname: " << safe << " safe, " << host << " host content, " << other << " errors");
  CHECK(host == 0);
  // Not vacuous: the reader did read the folder's own file meanwhile.
  CHECK(safe > 0);
}

TEST_CASE("a filesystem mounted inside a volume is invisible through the view", "[confinement]") {
  MountedView v;
  const std::string web = v.add_volume("web");
  make_dir(web + "/mnt", kVolumeOwner, kVolumeOwner, 0755);
  write_file(web + "/plain", "p", kVolumeOwner, kVolumeOwner);
  REQUIRE(::mount("tmpfs", (web + "/mnt").c_str(), "tmpfs", 0, "size=1m,mode=0755") == 0);
  write_file(web + "/mnt/inner", "tmpfs", kVolumeOwner, kVolumeOwner);
  v.start(ViewSpec{{ann}, {"web:ann:web"}});
  const std::string view = v.home(ann) + "/web";
  CHECK(names_in(view) == std::vector<std::string>{"plain"});
  CHECK_FALSE(exists(view + "/mnt"));
  CHECK(run_as(ann.who(), [&] { return read_or_errno(AT_FDCWD, (view + "/mnt/inner").c_str()); }) == "ENOENT");
  CHECK(run_as(ann.who(), [&] { return std::to_string(::mkdir((view + "/mnt").c_str(), 0755)); }) == "-1");
  CHECK(read_file(web + "/mnt/inner") == "tmpfs");
}

TEST_CASE("a bind mount of a host folder inside a volume is not entered either", "[confinement]") {
  MountedView v;
  const std::string web = v.add_volume("web");
  // A host folder on the same filesystem as the volume: same st_dev, so only
  // a mount-aware check can tell it is a different mount.
  make_dir(v.tree() / "host", 0, 0, 0755);
  write_file(v.tree() / "host/hostname", "host secret", 0, 0, 0644);
  make_dir(web + "/bound", kVolumeOwner, kVolumeOwner, 0755);
  REQUIRE(::mount((v.tree() / "host").c_str(), (web + "/bound").c_str(), nullptr, MS_BIND, nullptr) == 0);
  v.start(ViewSpec{{ann}, {"web:ann:web"}});
  const std::string view = v.home(ann) + "/web";
  CHECK(names_in(view).empty());
  CHECK(run_as(ann.who(), [&] { return read_or_errno(AT_FDCWD, (view + "/bound/hostname").c_str()); }) == "ENOENT");
}
