#include "fs/passthrough.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>

#include "fs/kernel_paths.hpp"
#include "fs/sys.hpp"

namespace gw::fs {

#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 16)

int Passthrough::register_backing(fuse_req_t req, int fd) {
  const int id = fuse_passthrough_open(req, fd);  // libfuse logs the errno on failure
  if (id > 0) return id;
  if (registering_.exchange(false))
    spdlog::warn("fuse: the kernel refused a backing file (passthrough needs CAP_SYS_ADMIN); "
                 "downloads go through the gateway from now on");
  return 0;
}

KernelIo Passthrough::open(fuse_req_t req, fuse_ino_t id, int fd, bool read_only, struct fuse_file_info* fi) {
  struct stat st {};
  if (sys::fstat(fd, &st) != 0) read_only = false;  // cannot tell its file: not a candidate
  std::lock_guard lock(mu_);
  Entry& e = open_[id];
  if (e.backed > 0) {
    // The inode is in passthrough mode: every open must carry its backing
    // id. Only a reader of that very file reads from it.
    ++e.backed;
    fi->backing_id = e.backing_id;
    fi->keep_cache = 0;
    const bool same_file = read_only && st.st_dev == e.dev && st.st_ino == e.ino;
    fi->direct_io = same_file ? 0 : 1;
    return same_file ? KernelIo::passthrough : KernelIo::daemon;
  }
  if (read_only && e.cached == 0 && registering_.load(std::memory_order_relaxed))
    if (const int backing = register_backing(req, fd); backing > 0) {
      e = Entry{backing, st.st_dev, st.st_ino, 1, 0};
      fi->backing_id = backing;
      fi->keep_cache = 0;
      fi->direct_io = 0;
      return KernelIo::passthrough;
    }
  ++e.cached;
  return KernelIo::cached;
}

void Passthrough::release(fuse_req_t req, fuse_ino_t id, KernelIo io) {
  std::lock_guard lock(mu_);
  const auto it = open_.find(id);
  if (it == open_.end()) return;
  Entry& e = it->second;
  if (io == KernelIo::cached) {
    if (e.cached > 0) --e.cached;
  } else if (e.backed > 0 && --e.backed == 0) {
    // The last open that used the backing file: the kernel dropped it
    // from the inode already (before this RELEASE was sent).
    if (fuse_passthrough_close(req, e.backing_id) < 0)
      spdlog::warn("fuse: backing file {} of inode {} could not be closed", e.backing_id, id);
    e.backing_id = 0;
  }
  if (e.backed == 0 && e.cached == 0) open_.erase(it);
}

#else  // libfuse < 3.16: no passthrough; every open is cached, nothing is kept

int Passthrough::register_backing(fuse_req_t, int) { return 0; }

KernelIo Passthrough::open(fuse_req_t, fuse_ino_t, int, bool, struct fuse_file_info*) { return KernelIo::cached; }

void Passthrough::release(fuse_req_t, fuse_ino_t, KernelIo) {}

#endif

}  // namespace gw::fs
