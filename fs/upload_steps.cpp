#include "fs/upload_steps.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "fs/audit.hpp"
#include "fs/identity.hpp"
#include "fs/quota_steps.hpp"
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

// What an upload's temporary counts in the limits of its folder: its size,
// and an entry for a new file (an overwrite's replaces one).
Usage temporary_usage(const Upload& up, const struct stat& st) {
  Usage u = usage_of(st);
  if (up.overwrite()) u.files = 0;
  return u;
}

// Unlinks the temporary in `dir_fd` (as the stored owner), giving back what
// it counted.
void unlink_temporary(View& view, int dir_fd, const Upload& up) {
  const auto chain = quota_chain(view, *up.parent());
  struct stat st {};
  const bool known = chain && sys::fstatat_nofollow(dir_fd, up.temporary().c_str(), &st) == 0;
  if (sys::unlinkat(dir_fd, up.temporary().c_str(), 0) == 0 && known) give_all(*chain, temporary_usage(up, st));
}

// Unlinks the upload's temporary name (ENOENT when the view renamed or
// removed it meanwhile).
void remove_temporary(View& view, const Upload& up) {
  auto dir = node_fd(view, *up.parent());
  if (!dir.ok()) return;  // left for the next start's sweep
  const MappingRoot& m = *up.parent()->mapping;
  AsIdentity as(m.stored.uid, m.stored.gid);
  if (!as.error()) unlink_temporary(view, dir.value->get(), up);
}

// No cached descriptor keeps a removed temporary's blocks.
void forget_temporary_fd(View& view, const Upload& up) {
  if (up.overwrite()) view.fds().drop(up.replacing().replacement->id);
}

// The steps below run with `up.ending` held.

void discard(View& view, Upload& up, int err) {
  view.uploads().apply(up, UploadEvent::discard, err);  // the view stops showing it first
  remove_temporary(view, up);
  forget_temporary_fd(view, up);
}

void drop(View& view, Upload& up) {
  // A temporary still under its own name (another file was renamed onto
  // the upload's name) goes; a renamed or removed one is gone already.
  remove_temporary(view, up);
  view.uploads().apply(up, UploadEvent::drop);
}

// Whether the upload's name still holds the file the overwrite replaces.
bool still_holds_replaced(int dir_fd, const Upload& up) {
  struct stat st {};
  return sys::fstatat_nofollow(dir_fd, up.final_name().c_str(), &st) == 0 && st.st_dev == up.replacing().dev &&
         st.st_ino == up.replacing().ino;
}

void announce(const View& view, const OpenFile& file, const Upload& up) {
  const MappingRoot& m = *up.parent()->mapping;
  // Nobody to tell (no upload event wanted, no debug line): no fstat and no
  // path, as fs/view_events.hpp promises for an event that is not wanted.
  if (!view.events().wants(m, EventKind::upload) && !spdlog::should_log(spdlog::level::debug)) return;
  struct stat st {};
  sys::fstat(file.fd.get(), &st);  // the size is for the record only: 0 if it cannot be read
  upload_published(view, m,
                   PublishedUpload{m.user.name, m.label, child_path(*up.parent(), up.final_name().str()),
                                   static_cast<std::uint64_t>(st.st_size), up.overwrite()});
}

// Gives the temporary its final name in folder `d`, as the stored owner.
int take_final_name(View& view, Upload& up, int d) {
  Uploads& uploads = view.uploads();
  const MappingRoot& m = *up.parent()->mapping;
  AsIdentity as(m.stored.uid, m.stored.gid);
  if (as.error()) return as.error();
  uploads.apply(up, UploadEvent::start_publish);
  if (up.overwrite() && !still_holds_replaced(d, up)) {  // removed or replaced by someone else meanwhile
    uploads.apply(up, UploadEvent::cancel);
    unlink_temporary(view, d, up);
    forget_temporary_fd(view, up);
    return ECANCELED;
  }
  // The file the name holds goes when the upload takes its place: an
  // overwrite counts the new size, not old and new, once published.
  const Departing replaced(view, *up.parent(), d, up.final_name().c_str());
  if (const int err = sys::renameat2(d, up.temporary().c_str(), d, up.final_name().c_str(), 0)) {
    uploads.apply(up, UploadEvent::discard, err);
    unlink_temporary(view, d, up);
    forget_temporary_fd(view, up);
    return err;
  }
  replaced.gone(up.overwrite() ? Departing::keeps_entry : Departing::frees_entry);
  uploads.apply(up, UploadEvent::publish);
  return 0;
}

int publish(View& view, OpenFile& file) {
  Upload& up = *file.upload;
  auto dir = node_fd(view, *up.parent());
  if (!dir.ok()) return dir.err;  // still writing: the release tries again
  if (const int err = take_final_name(view, up, dir.value->get())) return err;
  if (up.overwrite()) {
    // The kernel's inode now stands for the new file only: the replaced
    // object's (dev, ino) may be reused by the filesystem for another file,
    // which must get an inode of its own; its cached descriptor goes too.
    view.inodes().retire(up.replacing().node);
    view.fds().drop(up.replacing().node->id);
  }
  announce(view, file, up);  // as root again: the event log may open its spool
  return 0;
}

// Whether `pid` is exiting: its open files are being closed for it (a
// killed client's sshd), not by a client that finished its upload.
bool exiting(pid_t pid) {
  // pid 0: the closer lives in another pid namespace (sshd's container);
  // unknown is not "exiting", so such uploads are published as usual.
  if (pid <= 0) return false;
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  // One read: the kernel renders the whole line at once, and the flags are
  // its ninth field (stdio would add an fstat and a second read at every
  // close of an upload).
  auto f = sys::openat(AT_FDCWD, path, O_RDONLY);
  if (!f.ok()) return false;
  char buf[1024];
  const ssize_t n = ::read(f.value.get(), buf, sizeof buf - 1);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may hold anything
  unsigned long flags = 0;
  if (!p || std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1) return false;
  return (flags & 0x4) != 0;  // PF_EXITING
}

}  // namespace

bool begin_overwrite(View& view, const InodePtr& node, int flags, OpenFile& file, int* err) {
  *err = 0;
  const MappingRoot& m = *node->mapping;
  const InodePtr parent = node->place_parent();
  if (!parent || !parent->is_backed() || parent->mapping->id != m.id) return false;
  const Uploads::Resolved name = view.uploads().resolve(*parent, node->place_name());
  if (name.kind != Uploads::Resolved::Kind::plain) return false;
  auto dir = node_fd(view, *parent);
  if (!dir.ok()) {
    *err = dir.err;
    return true;
  }
  // The file the name holds now (another overwrite may be in progress: it
  // replaces the same file, and the first to close wins).
  struct stat old {};
  if (sys::fstatat_nofollow(dir.value->get(), name.on_disk->c_str(), &old) != 0) return false;
  if (!S_ISREG(old.st_mode) || old.st_nlink != 1 || old.st_uid != m.stored.uid) return false;
  const Name temporary = view.uploads().new_temporary_name();
  // The temporary's size counts as it grows (fs/quota_steps.hpp); the
  // file it replaces already counts the entry.
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
  file.upload = std::make_shared<Upload>(parent, *name.name, temporary,
                                         Upload::Replacing{node, old.st_dev, old.st_ino, std::move(next)});
  view.uploads().add(file.upload);
  return true;
}

int close_upload(View& view, OpenFile& file, pid_t closer) {
  Upload& up = *file.upload;
  if (exiting(closer)) view.uploads().apply(up, UploadEvent::abandon);
  std::lock_guard lock(up.ending);
  switch (at_close(view.uploads().state(up))) {
    case UploadStep::publish: return publish(view, file);
    case UploadStep::drop: drop(view, up); break;
    case UploadStep::discard: discard(view, up, view.uploads().error(up)); break;
    default: break;  // abandoned: the release discards; nothing to tell an exiting process
  }
  return view.uploads().error(up);
}

int release_upload(View& view, OpenFile& file) {
  Upload& up = *file.upload;
  std::lock_guard lock(up.ending);
  switch (at_release(view.uploads().state(up))) {
    case UploadStep::publish:
      // Published now, or it never will be: what the publish could not do
      // (no folder fd, no identity) ends in a discard.
      if (const int err = publish(view, file); err && !ended(view.uploads().state(up))) discard(view, up, err);
      break;
    case UploadStep::drop: drop(view, up); break;
    case UploadStep::discard: discard(view, up, 0); break;
    case UploadStep::none: break;
  }
  return view.uploads().error(up);
}

void discard_upload(View& view, OpenFile& file) {
  Upload& up = *file.upload;
  std::lock_guard lock(up.ending);
  if (!ended(view.uploads().state(up))) discard(view, up, 0);
}

void upload_published(const View& view, const MappingRoot& m, const PublishedUpload& facts) {
  spdlog::debug("{}: published {} ({} bytes{})", facts.mapping, facts.path, facts.size,
                facts.replaced ? ", replacing the file" : "");
  view.events().upload_published(m, facts.path, facts.size, facts.replaced);
}

}  // namespace gw::fs
