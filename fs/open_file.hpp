// An open regular file, kept in fuse_file_info::fh from open/create to release.
#pragma once

#include <cstdint>

#include "fs/inode.hpp"
#include "fs/unique_fd.hpp"

namespace gw::fs {

struct OpenFile {
  UniqueFd fd;
  InodePtr node;

  static OpenFile& of(const struct fuse_file_info* fi) { return *reinterpret_cast<OpenFile*>(fi->fh); }
  static std::uint64_t to_fh(OpenFile* f) { return reinterpret_cast<std::uint64_t>(f); }
};

}  // namespace gw::fs
