// What `check` needs to know about a backing folder. These are trusted paths
// from the admin's configuration, read once to warn; so a plain stat() by
// path is fine here, unlike in the view, which opens everything by fd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace gw::gateway {

struct FolderState {
  bool exists = false;
  bool is_directory = false;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t mode = 0;  // permission bits only (07777)
  dev_t device = 0;
  std::string error;  // strerror text when stat failed for another reason than ENOENT
};

// Follows symlinks: the report describes the folder the path leads to.
FolderState probe_folder(const std::string& path);

}  // namespace gw::gateway
