// A mapped backing folder as the view serves it: the confined root fd plus
// who the objects in it belong to (presented and stored owner) and what the
// rule allows.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>

#include "fs/backing_fd.hpp"
#include "mapping/model.hpp"

namespace gw::fs {

struct MappingRoot {
  std::uint64_t id = 0;         // distinguishes mappings sharing a backing folder
  std::string label;            // "ryan:web" for logs
  mapping::User user;           // the presented owner
  mapping::Owner stored;        // what lands on disk
  bool read_only = false;
  bool symlinks = false;
  bool atomic = false;
  // A directory fd on the backing filesystem, shared by every mapping on it:
  // open_by_handle_at needs one, and one per mapping would not scale.
  std::shared_ptr<const UniqueFd> mount_fd;
  dev_t dev = 0;                // objects on another device are never entered
};

}  // namespace gw::fs
