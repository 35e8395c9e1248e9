// Shared by the fs unit tests: inodes and mapping roots made in memory, as
// the layout and lookups make them, without a backing folder or a mount.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <string>

#include "fs/inode.hpp"
#include "fs/mapping_root.hpp"

namespace gw::test {

struct MappingSpec {
  std::uint64_t id = 1;
  mapping::User user{"ann", 61000, 61000};
  mapping::Owner stored{54321, 54321};
  bool read_only = false;
  bool atomic = true;
};

inline std::shared_ptr<const fs::MappingRoot> make_mapping(const MappingSpec& spec = {}) {
  auto m = std::make_shared<fs::MappingRoot>();
  m->id = spec.id;
  m->label = spec.user.name + ":web";
  m->user = spec.user;
  m->stored = spec.stored;
  m->read_only = spec.read_only;
  m->atomic = spec.atomic;
  return m;
}

// A backed object of `mapping`: `id` is its FUSE id, `ino` its backing inode.
inline fs::InodePtr backed(fuse_ino_t id, std::shared_ptr<const fs::MappingRoot> mapping, mode_t type = S_IFREG,
                           ino_t ino = 0) {
  auto node = std::make_shared<fs::Inode>();
  node->id = id;
  node->mapping = std::move(mapping);
  node->dev = 1;
  node->ino = ino ? ino : id + 1000;
  node->type = type;
  return node;
}

inline fs::InodePtr synthetic(fuse_ino_t id, mode_t mode = S_IFDIR | 0755, uid_t only_uid = 0) {
  auto node = std::make_shared<fs::Inode>();
  node->id = id;
  node->synthetic = std::make_shared<fs::Synthetic>();
  node->synthetic->mode = mode;
  node->synthetic->only_uid = only_uid;
  return node;
}

inline struct stat stat_of(ino_t ino, mode_t mode = S_IFREG | 0644, dev_t dev = 1) {
  struct stat st {};
  st.st_dev = dev;
  st.st_ino = ino;
  st.st_mode = mode;
  return st;
}

}  // namespace gw::test
