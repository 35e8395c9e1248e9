// What a FUSE inode id stands for. FUSE ids are counters mapped to shared
// Inode objects (never raw pointers), so a late request for a forgotten id
// finds nothing instead of freed memory.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "fs/backing_fd.hpp"
#include "fs/mapping_root.hpp"

namespace gw::fs {

struct Inode;

// A synthetic directory or file of the view (data/, the chroots, etc/...).
// A build fills new directories before anyone can see them; a reload that
// changes a few users edits the served data/ and etc/ssh/authorized_keys/
// in place (fs/layout_edit.hpp), so requests read entries under the lock.
// Files keep their inode across reloads and get new content, so a bind
// mount of one (sshd's /etc/passwd in host mode) sees the change.
struct Synthetic {
  mode_t mode = S_IFDIR | 0755;  // always root-owned, never writable
  using Entries = std::map<std::string, std::shared_ptr<Inode>>;
  Entries entries;               // a build's own, unlocked, until it is served
  uid_t only_uid = 0;            // non-zero: only this uid (and root) may look inside
  gid_t gid = 0;                 // the group shown (a chroot: the user's, with mode 0750)

  // A served directory's entries: looked up, listed and changed under the lock.
  std::shared_ptr<Inode> child(const std::string& name) const {
    std::lock_guard lock(mu);
    const auto it = entries.find(name);
    return it == entries.end() ? nullptr : it->second;
  }
  template <class Visit>
  void each_child(Visit visit) const {
    std::lock_guard lock(mu);
    for (const auto& [name, node] : entries) visit(name, node);
  }
  void set_child(const std::string& name, std::shared_ptr<Inode> node) {
    std::lock_guard lock(mu);
    entries[name] = std::move(node);
  }
  void remove_child(const std::string& name) {
    std::lock_guard lock(mu);
    entries.erase(name);
  }

  // The content is shared, never copied per request: a read or a getattr
  // of a 6 MB passwd (100,000 users) takes a reference, so glibc reading
  // it 4 KiB at a time costs O(size), not O(size^2) bytes copied.
  using Text = std::shared_ptr<const std::string>;
  Text content() const {
    std::lock_guard lock(mu);
    return text;
  }
  void set_content(std::string t) {
    Text fresh = std::make_shared<const std::string>(std::move(t));
    std::lock_guard lock(mu);
    text.swap(fresh);  // the old text is freed after the lock, by its last reader
  }

 private:
  mutable std::mutex mu;  // guards a served directory's entries, and text (the pointer; the string never changes)
  Text text = std::make_shared<const std::string>();
};

struct Inode {
  fuse_ino_t id = 0;
  // Exactly one of these is set.
  std::shared_ptr<Synthetic> synthetic;
  std::shared_ptr<const MappingRoot> mapping;

  // Backed objects.
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t type = 0;               // S_IFMT bits; fixed for an inode's life
  FileHandle handle;             // to reopen on demand
  SharedFd pinned;               // mapping roots, and filesystems without handles

  bool is_backed() const { return mapping != nullptr; }
  bool is_root = false;          // the root of its mapping (home or mount)

  // Where the object was last seen, for audit lines: the path in the user's
  // view ("/ryan/web/a.txt"). A hard-linked object shows one of its names.
  std::string path() const;
  void set_place(std::shared_ptr<Inode> parent, std::string name);
  std::shared_ptr<Inode> place_parent() const;
  std::string place_name() const;

  // A user's home: the mapped folders shown inside it, hiding same-named
  // entries of the home's backing folder. Null for every other inode. A
  // reload may replace them (the home inode itself is kept).
  using Mounts = std::map<std::string, std::shared_ptr<Inode>>;
  std::shared_ptr<const Mounts> mounts() const;
  void set_mounts(std::shared_ptr<const Mounts> mounts);
  bool is_mount_name(const std::string& name) const {
    const auto m = mounts();
    return m && m->count(name) > 0;
  }

  // The limits this object's changes count against (fs/quota_chain.hpp),
  // cached for one generation of the view's quotas.
  std::shared_ptr<const QuotaChain> cached_quotas(std::uint64_t generation) const;
  void cache_quotas(std::uint64_t generation, std::shared_ptr<const QuotaChain> chain) const;

 private:
  friend class Uploads;          // the only reader and writer of redirect_ (fs/upload.hpp)
  mutable std::mutex mu_;        // guards parent_, name_, mounts_, redirect_ and the quota cache
  std::shared_ptr<Inode> parent_;
  std::shared_ptr<const Inode> redirect_;  // an atomic overwrite's: see Uploads::redirect_of
  std::string name_;             // mapping roots: the whole path ("/ryan/web")
  std::shared_ptr<const Mounts> mounts_;
  mutable std::uint64_t quota_generation_ = 0;  // 0: none cached (generations start at 1)
  mutable std::shared_ptr<const QuotaChain> quotas_;
};

using InodePtr = std::shared_ptr<Inode>;

}  // namespace gw::fs
