#include "gateway/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fs/unique_fd.hpp"
#include "gateway/exit_codes.hpp"

namespace gw::gateway {
namespace {

// A step that failed and its errno.
struct Failure {
  std::string step;
  int err = 0;
};

// The step that just failed: errno is read first, before building the text
// can change it.
Failure failed(const char* step, const std::string& object = {}, const char* after = "") {
  const int err = errno;
  return {step + object + after, err};
}

[[noreturn]] void fail(const std::string& label, const Failure& f, const std::string& more = {}) {
  throw ExitError(exit_code::failure, "cannot write " + label + ": " + f.step + ": " + std::strerror(f.err) + more);
}

int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

// Fills the temporary and renames it into place; the first step that fails.
// Closes `fd` in every case.
Failure fill_and_rename(int dir, fs::UniqueFd fd, const std::string& tmp, const std::string& name,
                        std::string_view content, mode_t mode, Sync sync) {
  // openat's mode went through the umask, which can only have narrowed it.
  if (::fchmod(fd.get(), mode) != 0) return failed("setting the mode of ", tmp);
  if (const int e = write_all(fd.get(), content)) return {"writing " + tmp, e};
  if (sync == Sync::durable && ::fsync(fd.get()) != 0) return failed("syncing ", tmp);
  // close() is where some filesystems (NFS) report a failed write.
  if (::close(fd.release()) != 0) return failed("closing ", tmp);
  if (::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) return failed("renaming ", tmp, " into place");
  return {};
}

}  // namespace

void replace_file_at(int dir, const std::string& name, std::string_view content, mode_t mode,
                     const std::string& label, Sync sync) {
  const std::string tmp = "." + name + ".new";
  if (::unlinkat(dir, tmp.c_str(), 0) != 0 && errno != ENOENT)  // a crashed run's leftover
    fail(label, failed("removing the leftover ", tmp));
  fs::UniqueFd fd(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd.valid()) fail(label, failed("creating ", tmp));
  if (const Failure f = fill_and_rename(dir, std::move(fd), tmp, name, content, mode, sync); f.err != 0) {
    if (::unlinkat(dir, tmp.c_str(), 0) != 0 && errno != ENOENT) {
      const int e = errno;
      fail(label, f, " (and " + tmp + " is left behind: " + std::strerror(e) + ")");
    }
    fail(label, f);
  }
  if (sync == Sync::durable && ::fsync(dir) != 0) fail(label, failed("syncing its folder"));
}

void replace_file(const std::string& path, std::string_view content, mode_t mode, Sync sync) {
  const std::size_t slash = path.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") fail(path, {"not a file name", EINVAL});
  const fs::UniqueFd dir(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) fail(path, failed("opening its folder ", folder));
  replace_file_at(dir.get(), name, content, mode, path, sync);
}

}  // namespace gw::gateway
