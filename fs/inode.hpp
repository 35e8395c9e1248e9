// What a FUSE inode id stands for. FUSE ids are counters mapped to shared
// Inode objects (never raw pointers), so a late request for a forgotten id
// finds nothing instead of freed memory.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>

#include "fs/backing_fd.hpp"
#include "fs/mapping_root.hpp"

namespace gw::fs {

struct Inode;

// A synthetic directory or file of the view (data/, the chroots, etc/...).
struct Synthetic {
  mode_t mode = S_IFDIR | 0755;  // always root-owned, never writable
  std::map<std::string, std::shared_ptr<Inode>> entries;
  std::string content;           // for files
  uid_t only_uid = 0;            // non-zero: only this uid (and root) may look inside
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
  // A user's home: the mapped folders shown inside it, hiding same-named
  // entries of the home's backing folder.
  std::shared_ptr<const std::map<std::string, std::shared_ptr<Inode>>> mounts;

  bool is_backed() const { return mapping != nullptr; }
  bool is_root = false;          // the root of its mapping (home or mount)
};

using InodePtr = std::shared_ptr<Inode>;

}  // namespace gw::fs
