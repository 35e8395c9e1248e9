#include "fs/view.hpp"

#include <fcntl.h>

#include <stdexcept>

namespace gw::fs {

View::View(ViewOptions options) : options_(options), fds_(options.fd_cache) {
  auto proc = sys::openat(AT_FDCWD, "/proc/self/fd", O_PATH | O_DIRECTORY);
  if (!proc.ok()) throw std::runtime_error("cannot open /proc/self/fd: /proc must be mounted");
  proc_self_fd_ = std::move(proc.value);
}

void View::install(Layout layout) {
  Layout old;
  {
    std::lock_guard lock(layout_mu_);
    old = std::exchange(layout_, Layout{});
  }
  for (const auto& n : layout.pinned) inodes_.pin(n);
  for (const auto& n : old.pinned) {
    if (n->id != FUSE_ROOT_ID) inodes_.unpin(n->id);
  }
  std::lock_guard lock(layout_mu_);
  layout_ = std::move(layout);
}

InodePtr View::root() const {
  std::lock_guard lock(layout_mu_);
  return layout_.root;
}

View& view_of(fuse_req_t req) { return *static_cast<View*>(fuse_req_userdata(req)); }

}  // namespace gw::fs
