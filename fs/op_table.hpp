#pragma once

#include "fs/inode.hpp"

namespace gw::fs {

// The one place that fills the FUSE operation table.
const struct fuse_lowlevel_ops& operations();

}  // namespace gw::fs
