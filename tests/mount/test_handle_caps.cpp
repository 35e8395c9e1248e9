// Open handles are capped per user (--open-files-per-user): a user at the
// cap gets EMFILE for files and folders, another user is not affected, and
// closing gives the handles back.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>
#include <vector>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

constexpr long kCap = 16;

// Opens `path` (a file, or a folder with opendir) until a call fails, then
// closes everything. Returns how many were open at once, and ends with
// EMFILE's errno when that was the failure (checked by the caller).
long open_until_refused(const std::string& path, bool folder) {
  std::vector<int> fds;
  std::vector<DIR*> dirs;
  int err = 0;
  for (int i = 0; i < 4 * kCap; ++i) {
    if (folder) {
      DIR* d = ::opendir(path.c_str());
      if (!d) {
        err = errno;
        break;
      }
      dirs.push_back(d);
    } else {
      const int fd = ::open(path.c_str(), O_RDONLY);
      if (fd < 0) {
        err = errno;
        break;
      }
      fds.push_back(fd);
    }
  }
  const long held = static_cast<long>(fds.size() + dirs.size());
  for (const int fd : fds) ::close(fd);
  for (DIR* d : dirs) ::closedir(d);
  if (err != EMFILE) return -1000 - err;  // refused for another reason, or never refused
  return held;
}

// A child process holding `n` open files of `path` as `user` until destroyed.
class HeldOpen {
 public:
  HeldOpen(const TestUser& user, const std::string& path, long n) {
    int ready[2], done[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(done) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(done[1]);
      if (::setgroups(0, nullptr) || ::setgid(user.gid) || ::setuid(user.uid)) ::_exit(1);
      long opened = 0;
      for (int tries = 0; opened < n && tries < 200; ++tries) {  // earlier handles may still be releasing
        if (::open(path.c_str(), O_RDONLY) >= 0) ++opened;
        else ::usleep(10 * 1000);
      }
      (void)!::write(ready[1], &opened, sizeof opened);
      char c;
      (void)!::read(done[0], &c, 1);  // until the parent closes its end
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(done[0]);
    done_ = done[1];
    if (::read(ready[0], &count_, sizeof count_) != sizeof count_) count_ = -1;
    ::close(ready[0]);
  }
  ~HeldOpen() {
    ::close(done_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  HeldOpen(const HeldOpen&) = delete;
  HeldOpen& operator=(const HeldOpen&) = delete;
  long count() const { return count_; }

 private:
  pid_t pid_ = -1;
  int done_ = -1;
  long count_ = -1;
};

// The kernel sends RELEASE after close() returned, so handles closed by
// the previous call may still count for a moment: the call is retried
// until it gives `want` (for at most 2 s).
std::string eventually(const Who& who, const std::function<long()>& call, const std::string& want) {
  std::string got;
  for (int i = 0; i < 20; ++i) {
    got = call_as(who, call).str();
    if (got == want) break;
    ::usleep(100 * 1000);
  }
  return got;
}

}  // namespace

TEST_CASE("each user's open files and folders are capped; others are unaffected", "[limits]") {
  MountedView v;
  const std::string web = v.add_volume("web", kVolumeOwner, kVolumeOwner, 0755);
  write_file(web + "/f", "x", kVolumeOwner, kVolumeOwner, 0644);
  v.add_volume("bobs", kVolumeOwner, kVolumeOwner, 0755);
  write_file(v.volume("bobs") + "/f", "x", kVolumeOwner, kVolumeOwner, 0644);
  v.start(ViewSpec{{ann, bob}, {"web:ann:web", "bobs:bob:files"}, {"--open-files-per-user", std::to_string(kCap)}});
  const std::string anns = v.home(ann) + "/web";
  const std::string bobs = v.home(bob) + "/files";
  CHECK(eventually(ann.who(), [&] { return open_until_refused(anns + "/f", false); }, "ok 16") == "ok 16");
  CHECK(eventually(ann.who(), [&] { return open_until_refused(anns, true); }, "ok 16") == "ok 16");
  // While ann holds her cap in another process, bob opens as usual; then
  // ann's handles are given back when that process exits.
  {
    HeldOpen held(ann, anns + "/f", kCap);
    REQUIRE(held.count() == kCap);
    CHECK(call_as(ann.who(), [&] { return static_cast<long>(::open((anns + "/f").c_str(), O_RDONLY)); }).str() ==
          "EMFILE");
    CHECK(call_as(bob.who(), [&] { return open_until_refused(bobs + "/f", false); }).str() == "ok 16");
  }
  CHECK(eventually(ann.who(), [&] { return open_until_refused(anns + "/f", false); }, "ok 16") == "ok 16");
}
