#include "fs/uploads.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>

#include "fs/identity.hpp"
#include "fs/pending_uploads.hpp"
#include "fs/request.hpp"
#include "fs/sys.hpp"

namespace gw::fs {
namespace {

// The inode standing for a temporary while it replaces `node`'s file. It is
// not in the inode table: the kernel only knows `node`.
std::shared_ptr<const Inode> temporary_inode(View& view, const Inode& node, int fd, const struct stat& st, int* err) {
  auto next = std::make_shared<Inode>();
  next->id = view.inodes().next_id();
  next->mapping = node.mapping;
  next->dev = st.st_dev;
  next->ino = st.st_ino;
  next->type = st.st_mode & S_IFMT;
  if ((*err = reopen_key_of(view.proc_fd(), fd, &next->handle, &next->pinned))) return nullptr;
  return next;
}

// An overwrite that ends without replacing the file: the inode stands for
// what it stood for before (the old file, or another overwrite still in
// progress), and no cached descriptor keeps the removed temporary's blocks.
void forget_replacement(View& view, OpenFile& file) {
  file.node->restore_successor(file.replacement.get(), file.replaced_successor);
  view.fds().drop(file.replacement->id);
  file.restored = true;
}

// Unlinks the upload's temporary name (ENOENT when the view renamed or
// removed it meanwhile).
void remove_temporary(View& view, const OpenFile& file) {
  auto dir = node_fd(view, *file.parent);
  if (!dir.ok()) return;
  AsIdentity as(file.parent->mapping->stored.uid, file.parent->mapping->stored.gid);
  if (!as.error()) sys::unlinkat(dir.value->get(), file.temporary.c_str(), 0);
}

}  // namespace

bool begin_overwrite(View& view, const InodePtr& node, int flags, OpenFile& file, int* err) {
  *err = 0;
  const MappingRoot& m = *node->mapping;
  const InodePtr parent = node->place_parent();
  const std::string name = node->place_name();
  if (!parent || !parent->is_backed() || parent->mapping->id != m.id || !Name::from(name)) return false;
  auto dir = node_fd(view, *parent);
  if (!dir.ok()) {
    *err = dir.err;
    return true;
  }
  // The file the name holds now (another overwrite may be in progress: it
  // replaces the same file, and the first to close wins).
  struct stat old {};
  if (sys::fstatat_nofollow(dir.value->get(), name.c_str(), &old) != 0) return false;
  if (!S_ISREG(old.st_mode) || old.st_nlink != 1 || old.st_uid != m.stored.uid) return false;
  const std::string temporary = PendingUploads::new_temporary_name();
  {
    AsIdentity as(m.stored.uid, m.stored.gid);
    if ((*err = as.error())) return true;
    const int open_flags = (flags | O_CREAT | O_EXCL | O_NOFOLLOW) & ~(O_NOCTTY | O_TRUNC);
    auto fd = sys::openat(dir.value->get(), temporary.c_str(), open_flags, old.st_mode & 0777);
    if ((*err = fd.err)) return true;
    file.fd = std::move(fd.value);
  }
  struct stat st {};
  std::shared_ptr<const Inode> next;
  if (!(*err = sys::fstat(file.fd.get(), &st))) next = temporary_inode(view, *node, file.fd.get(), st, err);
  if (!next) {  // nothing refers to the temporary yet: it goes
    AsIdentity as(m.stored.uid, m.stored.gid);
    if (!as.error()) sys::unlinkat(dir.value->get(), temporary.c_str(), 0);
    file.fd.reset();
    return true;
  }
  file.parent = parent;
  file.final_name = name;
  file.temporary = temporary;
  file.overwrite = true;
  file.replaced_dev = old.st_dev;
  file.replaced_ino = old.st_ino;
  file.replacement = next;
  file.replaced_successor = node->successor();  // another overwrite in progress, restored if this one fails
  node->set_successor(next);
  return true;
}

int publish_upload(View& view, OpenFile& file) {
  const bool overwrite = file.overwrite;
  std::lock_guard lock(file.ending);
  if (file.published) return file.cancelled ? ECANCELED : 0;
  if (!overwrite && !view.pending().finish(file.parent->id, file.final_name, file.temporary)) {
    // Renamed, removed or replaced through the view meanwhile: nothing to
    // publish. A temporary still under its own name (another file took the
    // upload's name) is dropped; a renamed or removed one is gone already.
    file.published = true;
    remove_temporary(view, file);
    return 0;
  }
  auto dir = node_fd(view, *file.parent);
  if (!dir.ok()) return dir.err;
  AsIdentity as(file.parent->mapping->stored.uid, file.parent->mapping->stored.gid);
  if (as.error()) return as.error();
  const int d = dir.value->get();
  if (overwrite) {
    struct stat st {};
    const bool same = sys::fstatat_nofollow(d, file.final_name.c_str(), &st) == 0 &&
                      st.st_dev == file.replaced_dev && st.st_ino == file.replaced_ino;
    if (!same) {
      sys::unlinkat(d, file.temporary.c_str(), 0);
      forget_replacement(view, file);
      file.published = true;  // nothing left to publish or discard
      file.cancelled = true;
      return ECANCELED;  // removed or replaced by someone else while being overwritten
    }
  }
  const int err = sys::renameat2(d, file.temporary.c_str(), d, file.final_name.c_str(), 0);
  if (err) return err;
  file.published = true;
  if (overwrite) {
    // The kernel's inode now stands for the new file only: the replaced
    // object's (dev, ino) may be reused by the filesystem for another file,
    // which must get an inode of its own; its cached descriptor goes too.
    view.inodes().retire(file.node);
    view.fds().drop(file.node->id);
  }
  return 0;
}

void discard_upload(View& view, OpenFile& file) {
  std::lock_guard lock(file.ending);
  if (file.published) return;
  file.published = true;  // ended: never published later
  if (file.overwrite) forget_replacement(view, file);
  else view.pending().finish(file.parent->id, file.final_name, file.temporary);
  remove_temporary(view, file);
}

bool exiting(pid_t pid) {
  // pid 0: the closer lives in another pid namespace (sshd's container);
  // unknown is not "exiting", so such uploads are published as usual.
  if (pid <= 0) return false;
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  std::FILE* f = std::fopen(path, "re");
  if (!f) return false;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may hold anything
  unsigned long flags = 0;
  if (!p || std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1) return false;
  return (flags & 0x4) != 0;  // PF_EXITING
}

}  // namespace gw::fs
