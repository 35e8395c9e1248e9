#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <linux/falloc.h>
#include <memory>
#include <string>

#include "fs/open_file.hpp"
#include "fs/ops.hpp"
#include "fs/quota_steps.hpp"
#include "fs/upload_steps.hpp"

namespace gw::fs::ops {
namespace {

bool opens_for_write(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC); }

}  // namespace

void open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  guarded(req, "open", [&] {
    View& view = view_of(req);
    const InodePtr node = view.inodes().get(ino);
    if (!node) return ESTALE;
    const Caller who = caller_of(req);
    const Op op = opens_for_write(fi->flags) ? Op::open_write : Op::open_read;
    if (const Outcome e = view.policy().check(*node, op, who)) return e.err;
    if (node->synthetic) {
      if (S_ISDIR(node->synthetic->mode)) return EISDIR;
      fi->fh = 0;  // read() serves the rendered content
      fi->direct_io = 1;  // no page cache: a reload's new content shows at once
      fuse_reply_open(req, fi);
      return 0;
    }
    // Only regular files are opened: a fifo or device planted in a volume by
    // another container must neither block a worker nor reach a device.
    if (!S_ISREG(node->type)) return view.policy().refuse(*node, op, who, EACCES, "not a regular file").err;
    auto path = node_fd(view, *node);
    if (!path.ok()) return path.err;
    // The kernel still knows a name for a file that has none left (a
    // discarded upload, a file removed by another client): ESTALE makes it
    // look the name up again, so an open with O_CREAT creates a new file
    // instead of writing into one nobody will see.
    struct stat linked {};
    if (sys::fstat(path.value->get(), &linked) == 0 && linked.st_nlink == 0) return ESTALE;
    auto file = std::make_unique<OpenFile>();
    file->node = node;
    file->opener = who;
    if (const Outcome e = take_handle(view, *node, op, who, &file->counted)) return e.err;
    file->truncated = (fi->flags & O_TRUNC) != 0;
    bool replaced = false;
    if (file->truncated && (fi->flags & O_ACCMODE) != O_RDONLY && node->mapping->atomic) {  // an overwrite: atomic
      int err = 0;
      replaced = begin_overwrite(view, node, fi->flags, *file, &err);
      if (err) return err;
    }
    if (!replaced) {
      AsIdentity as(node->mapping->stored.uid, node->mapping->stored.gid);
      if (as.error()) return as.error();
      // O_TRUNC in place frees what the file held.
      const auto reopen = [&] {
        auto fd = sys::reopen(view.proc_fd(), path.value->get(), fi->flags & ~O_NOCTTY);
        file->fd = std::move(fd.value);
        return fd.err;
      };
      const bool truncates = file->truncated && (fi->flags & O_ACCMODE) != O_RDONLY;
      const Outcome e = truncates ? resize_within_quota(view, *node, path.value->get(), 0, Op::open_write, who, nullptr, nullptr, reopen)
                                  : Outcome(reopen());
      if (e) return e.err;
    }
    fi->fh = OpenFile::to_fh(file.get());
    // Keep the page cache across opens; the kernel drops it when it sees the
    // size or mtime change (auto_inval_data), e.g. after another writer.
    fi->keep_cache = 1;
    // With passthrough a download is read by the kernel from file->fd (the
    // same confined fd read() would use); it may change the flags above.
    if (view.passthrough().enabled())
      file->io = view.passthrough().open(req, ino, file->fd.get(), !opens_for_write(fi->flags), fi);
    if (fuse_reply_open(req, fi) == 0) {
      file.release();
      return 0;
    }
    if (view.passthrough().enabled()) view.passthrough().release(req, ino, file->io);
    if (file->upload) discard_upload(view, *file);
    return 0;
  });
}

namespace {

int read_synthetic(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off) {
  const InodePtr node = view_of(req).inodes().get(ino);
  if (!node || !node->synthetic) return ESTALE;
  const Synthetic::Text text = node->synthetic->content();
  const auto start = std::min(static_cast<std::size_t>(off), text->size());
  const auto count = std::min(size, text->size() - start);
  fuse_reply_buf(req, text->data() + start, count);
  return 0;
}

// What a read of `size` bytes at `off` gives: what the file holds there.
// The kernel asks for whole pages and reads ahead past the end, so the
// request's size would count a 1 KiB download as 128 KiB.
std::uint64_t readable(int fd, off_t off, std::size_t size) {
  struct stat st {};
  if (sys::fstat(fd, &st) != 0 || st.st_size <= off) return 0;
  return std::min<std::uint64_t>(size, static_cast<std::uint64_t>(st.st_size - off));
}

}  // namespace

void read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off, struct fuse_file_info* fi) {
  guarded(req, "read", [&] {
    if (fi->fh == 0) return read_synthetic(req, ino, size, off);
    const OpenFile& file = OpenFile::of(fi);
    struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
    buf.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    buf.buf[0].fd = file.fd.get();
    buf.buf[0].pos = off;
    MappingCounters* counters = file.node->mapping->counters.get();
    const std::uint64_t served = counters ? readable(file.fd.get(), off, size) : 0;
    if (fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE) == 0 && counters) counters->count_read(served);
    return 0;
  });
}

void write_buf(fuse_req_t req, fuse_ino_t, struct fuse_bufvec* in, off_t off, struct fuse_file_info* fi) {
  guarded(req, "write", [&] {
    OpenFile& file = OpenFile::of(fi);
    struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
    out.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    out.buf[0].fd = file.fd.get();
    out.buf[0].pos = off;
    ssize_t written = 0;
    View& view = view_of(req);
    const std::uint64_t end = static_cast<std::uint64_t>(off) + fuse_buf_size(in);
    std::uint64_t reached = 0;
    const Outcome quota = resize_within_quota(view, *file.node, file.fd.get(), end, Op::write, caller_of(req),
                                              // O_APPEND writes where the file ends, whatever `off` says
                                              &file.orphan_bytes, (fi->flags & O_APPEND) ? nullptr : &reached, [&] {
      // As the stored owner: root's reserved blocks and limits must not
      // apply to what a user writes.
      AsIdentity as(file.node->mapping->stored.uid, file.node->mapping->stored.gid);
      if (as.error()) return as.error();
      written = fuse_buf_copy(&out, in, static_cast<fuse_buf_copy_flags>(0));  // may block: a file write
      if (written < 0) return static_cast<int>(-written);
      reached = static_cast<std::uint64_t>(off) + static_cast<std::uint64_t>(written);
      return 0;
    });
    if (quota && written >= 0) written = -quota.err;  // refused before writing
    if (written < 0) {
      const int err = static_cast<int>(-written);
      file.write_error = err;
      if (file.upload) view.uploads().apply(*file.upload, UploadEvent::fail, err);
      return err;
    }
    file.written += static_cast<std::uint64_t>(written);
    if (MappingCounters* counters = file.node->mapping->counters.get()) counters->count_written(static_cast<std::uint64_t>(written));
    fuse_reply_write(req, static_cast<std::size_t>(written));
    return 0;
  });
}


// close(): an atomic upload takes its real name here, so a client that got
// its close confirmed finds the file in place on the volume.
void flush(fuse_req_t req, fuse_ino_t, struct fuse_file_info* fi) {
  guarded(req, "flush", [&] {
    if (fi->fh != 0) {
      OpenFile& file = OpenFile::of(fi);
      if (file.upload)
        if (const int e = close_upload(view_of(req), file, fuse_req_ctx(req)->pid)) return e;
    }
    fuse_reply_err(req, 0);
    return 0;
  });
}

void release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  if (fi->fh == 0) {
    fuse_reply_err(req, 0);
    return;
  }
  std::unique_ptr<OpenFile> file(&OpenFile::of(fi));
  View& view = view_of(req);
  int err = 0;
  try {
    // Before the reply, which ends the request the backing id is closed with.
    if (view.passthrough().enabled()) view.passthrough().release(req, ino, file->io);
    if (file->upload) err = release_upload(view, *file);
    // What its writes took after its last name went goes with it.
    if (const std::uint64_t orphan = file->orphan_bytes.load(); orphan > 0)
      if (const auto chain = quota_chain(view, *file->node)) give_all(*chain, Usage{orphan, 0});
    if (!err) err = file->write_error;  // also a write that failed after the upload was published
    if (err) spdlog::warn("{}: upload of {} not published: {}", file->node->mapping->label,
                          file->node->path(), std::strerror(err));
    // What a handle without an atomic upload wrote is in place now: an
    // upload (an atomic one was announced when it was published).
    if (!err && !file->upload && file->written > 0) view.events().written_file_released(*file->node, file->fd.get());
  } catch (const std::exception& e) {
    log_exception("release", e.what());
    err = EIO;
  }
  // release's reply cannot fail the close; the outcome is in the audit line.
  fuse_reply_err(req, 0);
  try {  // after the reply: nothing may escape into libfuse
    if (file->written > 0 || file->truncated || err)
      audit_node(view, file->opener, *file->node, Op::write, err, file->written);
    // An overwrite that did not replace the file: the kernel still caches
    // the new content it was given for this inode; the old file is back.
    if (file->upload && view.uploads().undone(*file->upload)) view.invalidate_files({file->node->id});
  } catch (...) {
  }
}

void fsync(fuse_req_t req, fuse_ino_t, int datasync, struct fuse_file_info* fi) {
  guarded(req, "fsync", [&] {
    if (fi->fh == 0) {  // a synthetic file: nothing to sync
      fuse_reply_err(req, 0);
      return 0;
    }
    if (const int e = sys::fsync(OpenFile::of(fi).fd.get(), datasync != 0)) return e;
    fuse_reply_err(req, 0);
    return 0;
  });
}

void fallocate(fuse_req_t req, fuse_ino_t, int mode, off_t offset, off_t length, struct fuse_file_info* fi) {
  guarded(req, "fallocate", [&] {
    View& view = view_of(req);
    if (fi->fh == 0) return EROFS;
    OpenFile& file = OpenFile::of(fi);
    const Caller who = caller_of(req);
    if (const Outcome e = view.policy().check(*file.node, Op::fallocate, who)) return e.err;
    // What a limit counts is st_size: space kept beyond the end of a file
    // (FALLOC_FL_KEEP_SIZE) would fill the disk unseen, so a limited folder
    // takes none; punching holes frees space and is always allowed.
    const bool keeps_size = (mode & FALLOC_FL_KEEP_SIZE) != 0;
    const auto end = static_cast<std::uint64_t>(offset) + static_cast<std::uint64_t>(length);
    if (keeps_size && !(mode & FALLOC_FL_PUNCH_HOLE))
      if (const auto chain = quota_chain(view, *file.node)) {
        struct stat st {};
        if (const int e = sys::fstat(file.fd.get(), &st)) return e;
        if (end > static_cast<std::uint64_t>(st.st_size)) return refuse_quota(view, *file.node, Op::fallocate, who, *chain->back()).err;
      }
    const Outcome err = resize_within_quota(view, *file.node, file.fd.get(), keeps_size ? 0 : end, Op::fallocate, who,
                                           &file.orphan_bytes, nullptr, [&] {
      AsIdentity as(file.node->mapping->stored.uid, file.node->mapping->stored.gid);
      if (as.error()) return as.error();
      return sys::fallocate(file.fd.get(), mode, offset, length);
    });
    if (err) return err.err;
    fuse_reply_err(req, 0);
    return 0;
  });
}

void lseek(fuse_req_t req, fuse_ino_t, off_t off, int whence, struct fuse_file_info* fi) {
  guarded(req, "lseek", [&] {
    if (fi->fh == 0) return EINVAL;  // synthetic files have no holes to seek
    auto r = sys::lseek(OpenFile::of(fi).fd.get(), off, whence);
    if (!r.ok()) return r.err;
    fuse_reply_lseek(req, r.value);
    return 0;
  });
}

}  // namespace gw::fs::ops
