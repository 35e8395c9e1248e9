// FUSE passthrough for downloads (--fuse-passthrough; fs/kernel_paths.hpp):
// a file opened read-only is registered with the kernel as a backing file
// (the same reopened, confined fd read() uses otherwise), and the kernel
// reads it without asking the daemon. Uploads stay on the daemon's path:
// quota per write, the bytes an upload wrote, a failed write that keeps an
// atomic upload from being published all need to see every write.
//
// What the kernel enforces per inode (fs/fuse/iomode.c, 6.9 and later), and
// what this table therefore keeps per FUSE inode id:
//   - an inode opened through a backing file admits only opens with
//     FOPEN_PASSTHROUGH while that lasts (any other open fails with EIO), and
//     only with the same backing file (EBUSY otherwise): a writer, or a
//     reader of another file (an atomic overwrite gave the name a new one),
//     is answered FOPEN_PASSTHROUGH | FOPEN_DIRECT_IO with the inode's
//     backing id, which keeps its reads and writes on the daemon (only an
//     mmap would map the backing file);
//   - an inode with cached opens (page cache, keep_cache) refuses a
//     passthrough open (ETXTBSY): a reader then opens cached as today;
//   - FOPEN_KEEP_CACHE is refused with FOPEN_PASSTHROUGH (EIO).
// The kernel drops an open's io mode before the daemon sees its RELEASE, so
// this table is never behind the kernel on what is open: a backing id is
// closed only once the last open that used it is released here.
//
// Registering a backing file needs CAP_SYS_ADMIN; a backing file on a
// stacked filesystem (overlayfs: a volume in a container's own layer) needs
// max_stack_depth 1, which the worker asks for (nothing is stacked over the
// view). The first refusal turns passthrough off for the worker's life,
// with one warning: downloads go through the daemon as without it.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace gw::fs {

// How one open of a regular file was answered.
enum class KernelIo : unsigned char {
  cached,       // page cache, requests to the daemon (what every open was before)
  passthrough,  // reads straight from the backing file
  daemon,       // FOPEN_PASSTHROUGH | FOPEN_DIRECT_IO: the inode has a backing file, this open's io comes here
};

class Passthrough {
 public:
  // Whether the kernel accepted passthrough at INIT (the worker asked for it
  // and the kernel offers it). Set before the first open, never after.
  void set_enabled(bool on) {
    enabled_ = on;
    registering_.store(on, std::memory_order_relaxed);
  }
  bool enabled() const { return enabled_; }

  // Chooses how the open of inode `id` (`fd`: the backing file this open
  // uses; `read_only`: it neither writes nor truncates) is answered, and
  // fills `fi` (backing_id, direct_io, keep_cache) for fuse_reply_open.
  // Every open of a regular file comes here while enabled, so the table
  // knows the cached opens too.
  KernelIo open(fuse_req_t req, fuse_ino_t id, int fd, bool read_only, struct fuse_file_info* fi);
  // The open answered with `io` ended (its release, or its reply failed).
  void release(fuse_req_t req, fuse_ino_t id, KernelIo io);

 private:
  struct Entry {
    int backing_id = 0;       // > 0 while passthrough opens hold a backing file
    dev_t dev = 0;            // the backing file's identity
    ino_t ino = 0;
    unsigned backed = 0;      // opens answered with the backing id (passthrough or daemon)
    unsigned cached = 0;      // opens answered with the page cache
  };
  // A backing id for `fd`, or 0 (then passthrough is off from now on).
  int register_backing(fuse_req_t req, int fd);

  bool enabled_ = false;
  // Off after the kernel refused a backing file: no new one is registered,
  // but the inodes that hold one keep being answered with it.
  std::atomic<bool> registering_{false};
  // Guards open_. Held across the one ioctl that registers a backing file:
  // a second opener of the same inode must see its id, not register another.
  std::mutex mu_;
  std::unordered_map<fuse_ino_t, Entry> open_;  // inodes with live opens
};

}  // namespace gw::fs
