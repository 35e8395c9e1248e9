// An open regular file, kept in fuse_file_info::fh from open/create to release.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "fs/handle_quota.hpp"
#include "fs/inode.hpp"
#include "fs/policy.hpp"
#include "fs/unique_fd.hpp"

namespace gw::fs {

struct OpenFile {
  UniqueFd fd;
  InodePtr node;
  HandleQuota::Token counted;             // against the opener's cap
  std::atomic<std::uint64_t> written{0};  // bytes, for the audit line at close
  Caller opener;                          // release carries no caller of its own
  // An atomic upload: renamed from `temporary` to `final_name` in `parent`
  // when this handle is released.
  InodePtr parent;
  std::string final_name;
  std::string temporary;
  // An overwrite (an existing file opened with O_TRUNC): the backing object
  // it replaces when published, and the temporary's inode, which stands for
  // `node` meanwhile (Inode::successor).
  bool overwrite = false;
  dev_t replaced_dev = 0;
  ino_t replaced_ino = 0;
  std::shared_ptr<const Inode> replacement;
  std::shared_ptr<const Inode> replaced_successor;  // what `node` stood for before, if redirected
  bool truncated = false;  // opened with O_TRUNC: audited even when nothing is written
  // Why the upload must not be published: a write failed (ENOSPC...), or the
  // handle was closed by a process that is exiting (a killed client's sshd),
  // not by a client that finished. The temporary is removed at release.
  std::atomic<int> failed{0};
  std::atomic<bool> abandoned{false};
  std::atomic<bool> published{false};  // ended (published, cancelled or discarded): nothing more to do
  bool cancelled = false;              // an overwrite whose file went meanwhile (ECANCELED); under `ending`
  bool restored = false;               // an overwrite that ended without replacing the file; under `ending`
  std::mutex ending;                   // publish and discard, one at a time (dup'd fds)

  static OpenFile& of(const struct fuse_file_info* fi) { return *reinterpret_cast<OpenFile*>(fi->fh); }
  static std::uint64_t to_fh(OpenFile* f) { return reinterpret_cast<std::uint64_t>(f); }
};

}  // namespace gw::fs
