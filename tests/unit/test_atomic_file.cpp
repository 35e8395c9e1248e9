// gateway/atomic_file: a file replaced whole or not at all, with its final
// mode from creation, every step's result checked, on temp folders.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "fs/unique_fd.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/atomic_file.hpp"
#include "support/catch.hpp"

using gw::gateway::ExitError;
using gw::gateway::replace_file;
using gw::gateway::replace_file_at;
using gw::test::mode_of;
using gw::test::read_text;
using gw::test::TempDir;

namespace {

std::vector<std::string> entries(const std::string& folder) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(folder)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The message of the ExitError `f` throws (exit code 1), or "" if none.
template <class F>
std::string failure(F&& f) {
  try {
    f();
  } catch (const ExitError& e) {
    CHECK(e.code() == gw::gateway::exit_code::failure);
    return e.what();
  }
  return "";
}

gw::fs::UniqueFd open_folder(const std::string& path) {
  gw::fs::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd.valid());
  return fd;
}

// Sets a resource's soft limit for one scope.
class SoftLimit {
 public:
  SoftLimit(int resource, rlim_t value) : resource_(resource) {
    REQUIRE(::getrlimit(resource_, &old_) == 0);
    struct rlimit lim = old_;
    lim.rlim_cur = value;
    REQUIRE(::setrlimit(resource_, &lim) == 0);
  }
  ~SoftLimit() { ::setrlimit(resource_, &old_); }

 private:
  int resource_;
  struct rlimit old_ {};
};

class Umask {
 public:
  explicit Umask(mode_t mask) : old_(::umask(mask)) {}
  ~Umask() { ::umask(old_); }

 private:
  mode_t old_;
};

}  // namespace

TEST_CASE("atomic file: replaces the content whole, with exactly the mode given", "[unit][atomic_file]") {
  const TempDir dir;
  const std::string file = dir / "status";
  {
    const Umask mask(077);  // would make a 0644 file 0600
    replace_file(file, "first\n", 0644);
  }
  CHECK(read_text(file) == "first\n");
  CHECK(mode_of(file) == 0644);
  {
    const Umask mask(0);  // would leave a created file as open as asked, no more
    ::chmod(file.c_str(), 0666);
    replace_file(file, "second\n", 0600);  // the old file's mode is not inherited
  }
  CHECK(read_text(file) == "second\n");
  CHECK(mode_of(file) == 0600);
  CHECK(entries(dir.path().string()) == std::vector<std::string>{"status"});
}

TEST_CASE("atomic file: a crashed run's temporary is replaced, not an obstacle", "[unit][atomic_file]") {
  const TempDir dir;
  gw::test::write_file(dir / "keys", "old\n");
  gw::test::write_file(dir / ".keys.new", "half a fi");
  const auto folder = open_folder(dir.path().string());
  replace_file_at(folder.get(), "keys", "new\n", 0644, "the keys");
  CHECK(read_text(dir / "keys") == "new\n");
  CHECK(entries(dir.path().string()) == std::vector<std::string>{"keys"});
}

TEST_CASE("atomic file: when the temporary cannot be made, the old file stays", "[unit][atomic_file]") {
  const TempDir dir;
  gw::test::write_file(dir / "keys", "old\n");
  const auto folder = open_folder(dir.path().string());
  SECTION("no descriptor left for it") {
    // UBSan (the sanitizer build) checks an object's dynamic type the first
    // time it meets it through a pipe; with no descriptor left it could not:
    // an ExitError is thrown once before the limit, so that check is done.
    CHECK(failure([] { throw ExitError(gw::gateway::exit_code::failure, "warm-up"); }) == "warm-up");
    // The lowest free descriptor becomes the limit: the next open fails.
    const int next = ::dup(0);
    REQUIRE(next >= 0);
    ::close(next);
    std::string message;
    {
      const SoftLimit limit(RLIMIT_NOFILE, static_cast<rlim_t>(next));
      message = failure([&] { replace_file_at(folder.get(), "keys", "new\n", 0644, "the keys"); });
    }
    CHECK(message == "cannot write the keys: creating .keys.new: Too many open files");
  }
  SECTION("its name is held by a folder that cannot be removed") {
    std::filesystem::create_directories(dir / ".keys.new/inside");
    const std::string message = failure([&] { replace_file_at(folder.get(), "keys", "new\n", 0644, "the keys"); });
    CHECK(message == "cannot write the keys: removing the leftover .keys.new: Is a directory");
    CHECK(std::filesystem::is_directory(dir / ".keys.new/inside"));
    std::filesystem::remove_all(dir / ".keys.new");
  }
  CHECK(read_text(dir / "keys") == "old\n");
  CHECK(entries(dir.path().string()) == std::vector<std::string>{"keys"});
}

TEST_CASE("atomic file: a failed write leaves the old file and no temporary", "[unit][atomic_file]") {
  const TempDir dir;
  gw::test::write_file(dir / "keys", "old\n");
  const auto folder = open_folder(dir.path().string());
  // Past RLIMIT_FSIZE a write fails with EFBIG (once SIGXFSZ is ignored).
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(::sigaction(SIGXFSZ, &ignore, &old) == 0);
  std::string message;
  {
    const SoftLimit limit(RLIMIT_FSIZE, 4);
    message = failure([&] { replace_file_at(folder.get(), "keys", "longer than four bytes\n", 0644, "the keys"); });
  }
  ::sigaction(SIGXFSZ, &old, nullptr);
  CHECK(message == "cannot write the keys: writing .keys.new: File too large");
  CHECK(read_text(dir / "keys") == "old\n");
  CHECK(entries(dir.path().string()) == std::vector<std::string>{"keys"});
}

TEST_CASE("atomic file: a failed rename is reported, and the temporary removed", "[unit][atomic_file]") {
  const TempDir dir;
  // A non-empty folder where the file should be: rename(2) refuses (EISDIR).
  std::filesystem::create_directories(dir / "runtime/keep");
  const std::string message = failure([&] { replace_file(dir / "runtime", "pid=1\n", 0644); });
  CHECK(message == "cannot write " + (dir / "runtime") + ": renaming .runtime.new into place: Is a directory");
  CHECK(std::filesystem::is_directory(dir / "runtime/keep"));
  CHECK(entries(dir.path().string()) == std::vector<std::string>{"runtime"});
}

TEST_CASE("atomic file: the folder is opened once, never through a symlink", "[unit][atomic_file]") {
  const TempDir dir;
  std::filesystem::create_directories(dir / "real");
  std::filesystem::create_directory_symlink(dir / "real", dir / "link");
  CHECK_THAT(failure([&] { replace_file(dir / "link/file", "x", 0644); }),
             Catch::StartsWith("cannot write " + (dir / "link/file") + ": opening its folder "));
  CHECK_THAT(failure([&] { replace_file(dir / "missing/file", "x", 0644); }),
             Catch::EndsWith("No such file or directory"));
  CHECK(entries(dir / "real").empty());
}
