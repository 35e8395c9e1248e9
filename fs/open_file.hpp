// An open regular file, kept in fuse_file_info::fh from open/create to release.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "fs/handle_quota.hpp"
#include "fs/inode.hpp"
#include "fs/passthrough.hpp"
#include "fs/policy.hpp"
#include "fs/unique_fd.hpp"
#include "fs/upload.hpp"

namespace gw::fs {

struct OpenFile {
  UniqueFd fd;
  InodePtr node;
  HandleQuota::Token counted;             // against the opener's cap
  Caller opener;                          // release carries no caller of its own
  // For the audit line at close.
  std::atomic<std::uint64_t> written{0};  // bytes
  std::atomic<int> write_error{0};        // the last failed write's errno
  bool truncated = false;                 // opened with O_TRUNC: audited even when nothing is written
  // What its writes charged to its folder's limits after its last name
  // went (fs/quota_steps.hpp): given back at release, with the file.
  std::atomic<std::uint64_t> orphan_bytes{0};
  // An atomic upload (fs/upload.hpp): what `fd` writes is published at close.
  std::shared_ptr<Upload> upload;
  // How the kernel was told to do this open's io (fs/passthrough.hpp):
  // given back to the view's Passthrough table at release.
  KernelIo io = KernelIo::cached;

  static OpenFile& of(const struct fuse_file_info* fi) { return *reinterpret_cast<OpenFile*>(fi->fh); }
  static std::uint64_t to_fh(OpenFile* f) { return reinterpret_cast<std::uint64_t>(f); }
};

}  // namespace gw::fs
