#include "fs/op_table.hpp"

#include <spdlog/spdlog.h>

#include <cstdint>

#include "fs/kernel_paths.hpp"
#include "fs/ops.hpp"
#include "fs/view.hpp"

namespace gw::fs {
namespace {

constexpr unsigned kMaxRequest = 1u << 20;  // 1 MiB reads and writes

void init(void* userdata, struct fuse_conn_info* conn) {
  const unsigned wanted = FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
                          FUSE_CAP_READDIRPLUS | FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_AUTO_INVAL_DATA |
                          FUSE_CAP_ASYNC_READ | FUSE_CAP_ASYNC_DIO |
                          FUSE_CAP_ATOMIC_O_TRUNC;  // an overwrite reaches open(): it can be atomic
  conn->want |= wanted & conn->capable;
  // readdirplus when it pays: the kernel asks for names with attributes at
  // the start of a listing and whenever entries of the folder were looked
  // up since its last request (sftp-server stats each batch of names it
  // reads, sshfs too), and for names only otherwise (ls -f, find -type f,
  // rm -r), which cost a statx per entry here instead of a lookup, an inode
  // and a kernel dentry (fs/ops_dir.cpp).
  conn->want |= FUSE_CAP_READDIRPLUS_AUTO & conn->capable;
  // Requests are read with read(), not spliced: a 1 MiB write's request
  // (1 MiB + header) never fits a pipe of the default pipe-max-size (1 MiB),
  // so libfuse fell back to read() for every request anyway, and 3.18 also
  // drops and remakes its pipe each time it falls back (pipe2, fcntl, open
  // and read of /proc/sys/fs/pipe-max-size, closes: 10 more syscalls per
  // request, 1.5x the worker's CPU on small uploads).
  conn->want &= ~static_cast<std::uint32_t>(FUSE_CAP_SPLICE_READ);
  // Keep the kernel applying the caller's umask.
  conn->want &= ~static_cast<std::uint32_t>(FUSE_CAP_DONT_MASK);  // 3.17+ spells the flags as 64-bit
  conn->max_write = kMaxRequest;
  conn->max_readahead = kMaxRequest;
  ask_kernel_paths(*static_cast<View*>(userdata), conn);
  spdlog::debug("fuse: protocol {}.{}, capable {:#x}, want {:#x}", conn->proto_major, conn->proto_minor,
                conn->capable, conn->want);
}

struct fuse_lowlevel_ops make_operations() {
  struct fuse_lowlevel_ops o {};
  o.init = init;
  o.lookup = ops::lookup;
  o.forget = ops::forget;
  o.forget_multi = ops::forget_multi;
  o.getattr = ops::getattr;
  o.setattr = ops::setattr;
  o.readlink = ops::readlink;
  o.statfs = ops::statfs;
  o.opendir = ops::opendir;
  o.readdir = ops::readdir;
  o.readdirplus = ops::readdirplus;
  o.releasedir = ops::releasedir;
  o.fsyncdir = ops::fsyncdir;
  o.open = ops::open;
  o.read = ops::read;
  o.write_buf = ops::write_buf;
  o.flush = ops::flush;
  o.release = ops::release;
  o.fsync = ops::fsync;
  o.fallocate = ops::fallocate;
  o.lseek = ops::lseek;
  o.create = ops::create;
  o.mkdir = ops::mkdir;
  o.mknod = ops::mknod;
  o.symlink = ops::symlink;
  o.link = ops::link;
  o.unlink = ops::unlink;
  o.rmdir = ops::rmdir;
  o.rename = ops::rename;
  o.setxattr = ops::setxattr;
  o.getxattr = ops::getxattr;
  o.listxattr = ops::listxattr;
  o.removexattr = ops::removexattr;
  return o;
}

}  // namespace

const struct fuse_lowlevel_ops& operations() {
  static const struct fuse_lowlevel_ops table = make_operations();
  return table;
}

}  // namespace gw::fs
