#include "gateway/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "fs/unique_fd.hpp"

namespace gw::gateway {
namespace {

int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

}  // namespace

int write_file_atomically(int dir, const std::string& name, std::string_view text, mode_t mode) {
  const std::string tmp = "." + name + ".new";
  ::unlinkat(dir, tmp.c_str(), 0);  // left by a crashed run, if any
  fs::UniqueFd fd(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd.valid()) return errno;
  int err = write_all(fd.get(), text);
  if (err == 0 && ::fchmod(fd.get(), mode) != 0) err = errno;
  if (err == 0 && ::fsync(fd.get()) != 0) err = errno;
  if (err == 0 && ::close(fd.release()) != 0) err = errno;
  if (err == 0 && ::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlinkat(dir, tmp.c_str(), 0);
    return err;
  }
  return ::fsync(dir) == 0 ? 0 : errno;
}

}  // namespace gw::gateway
