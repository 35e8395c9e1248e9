// Where the view's operations meet the limits (fs/quota.hpp): growth taken
// before a change (EDQUOT, audited with reason "quota", when it would pass a
// limit), given back when the change did less or failed, and freed when a
// name's last link goes. Every helper is a no-op outside limited folders.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "fs/policy.hpp"
#include "fs/quota_chain.hpp"
#include "fs/sys.hpp"

namespace gw::fs {

// The refusal of a change that would pass `full`'s limit.
Outcome refuse_quota(const View& view, const Inode& node, Op op, const Caller& who, const FolderQuota& full,
                     std::string_view name = {});

// A change of the size of the open backing file `fd` of `node` (a write, a
// truncate, an fallocate) after which the file is at most `end` bytes long:
// the growth is taken first, then `change()` (returning an errno) runs, and
// the size found afterwards settles what was taken. Changes of one file are
// serialised, so its size before and after is the change's own.
// A file whose last name went (another client removed it while this one
// writes) was given back then: what it grows by is still taken (it fills the
// disk all the same) and added to `*orphan_bytes`, the open file's, which
// its release gives back (fs/ops_file.cpp); it shrinks by at most that.
// `reached`, when set, is where a successful change ended (a write: its
// offset plus the bytes written), so the size after need not be asked.
template <class Change>
Outcome resize_within_quota(View& view, const Inode& node, int fd, std::uint64_t end, Op op, const Caller& who,
                            std::atomic<std::uint64_t>* orphan_bytes, const std::uint64_t* reached, Change&& change);

// One entry a new name adds (create, mkdir, symlink, an overwrite's
// temporary) to the folder `dir`: taken by make(), given back by the
// destructor unless keep() was called (the name was made).
class NewEntry {
 public:
  NewEntry(const View& view, const Inode& dir) : chain_(quota_chain(view, dir)) {}
  NewEntry(const NewEntry&) = delete;
  NewEntry& operator=(const NewEntry&) = delete;
  ~NewEntry() {
    if (taken_ && !kept_) give_all(*chain_, taken_usage_);
  }
  // Takes one entry of `bytes`; the quota that refused, if one did.
  const FolderQuota* take(std::uint64_t bytes = 0);
  void keep() { kept_ = true; }

 private:
  std::shared_ptr<const QuotaChain> chain_;
  Usage taken_usage_;
  bool taken_ = false;
  bool kept_ = false;
};

// What removing (or replacing) a name frees: looked at before, given back
// (to the limits of the folder it was in) once it is gone.
class Departing {
 public:
  // `name` in the folder `dir_fd` (of view folder `dir`), about to go.
  Departing(const View& view, const Inode& dir, int dir_fd, const char* name);
  // It went: its space and its entry are free, if this was its last link.
  // An overwrite's published upload takes over the entry of the file it
  // replaced (its temporary took none).
  enum Entry { frees_entry, keeps_entry };
  void gone(Entry entry = frees_entry) const;
  // The object (dev, ino) the name held, to tell a rename onto itself.
  bool is(dev_t dev, ino_t ino) const { return found_ && st_.st_dev == dev && st_.st_ino == ino; }

 private:
  std::shared_ptr<const QuotaChain> chain_;
  struct stat st_ {};
  bool found_ = false;
};

// What a file of `st` counts: st_size for files and symlinks (a sparse
// file its whole size), nothing for folders; one entry each.
Usage usage_of(const struct stat& st);

template <class Change>
Outcome resize_within_quota(View& view, const Inode& node, int fd, std::uint64_t end, Op op, const Caller& who,
                            std::atomic<std::uint64_t>* orphan_bytes, const std::uint64_t* reached, Change&& change) {
  const auto chain = quota_chain(view, node);
  if (!chain) return change();
  std::lock_guard lock(view.quotas().size_lock(node.dev, node.ino));
  struct stat before {};
  if (const int e = sys::fstat(fd, &before)) return e;
  const auto size = static_cast<std::uint64_t>(before.st_size);
  const Usage growth{end > size ? end - size : 0, 0};
  if (growth.bytes > 0)
    if (const FolderQuota* full = take_all(*chain, growth)) return refuse_quota(view, node, op, who, *full);
  const int err = change();
  // A write that succeeded ends where it says (`*reached`): the file is at
  // least that long, as it was before or longer. Anything else is asked.
  std::uint64_t now = 0;
  if (!err && reached) {
    now = std::max(size, *reached);
  } else {
    struct stat after {};
    // The size cannot be read: what was taken stays taken (an overestimate,
    // until the next count).
    if (sys::fstat(fd, &after) != 0) return err;
    now = static_cast<std::uint64_t>(after.st_size);
  }
  const std::uint64_t grew = now > size ? now - size : 0;
  if (grew < growth.bytes) give_all(*chain, Usage{growth.bytes - grew, 0});
  if (grew > growth.bytes) {  // beyond the reservation: another writer of the file behind the gateway
    for (const QuotaPtr& q : *chain) q->force(Usage{grew - growth.bytes, 0});
  }
  std::uint64_t shrank = now < size ? size - now : 0;
  if (before.st_nlink == 0 && orphan_bytes) {
    *orphan_bytes += grew;
    shrank = std::min<std::uint64_t>(shrank, orphan_bytes->load());
    *orphan_bytes -= shrank;
  } else if (before.st_nlink == 0) {
    shrank = 0;  // given back with its last name
  }
  if (shrank > 0) give_all(*chain, Usage{shrank, 0});
  return err;
}

}  // namespace gw::fs
