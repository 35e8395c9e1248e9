// Mounting the view and running its request loop.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

#include "fs/view.hpp"

namespace gw::fs {

struct MountError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Session {
 public:
  // Mounts `view` at `mountpoint` (allow_other, default_permissions, nosuid,
  // nodev). A dead mount left there by a crashed gateway is detached first;
  // a live one is an error, as is any mount failure.
  Session(View& view, const std::string& mountpoint);
  ~Session();  // unmounts
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Serves requests on up to `max_threads` threads until exit() or
  // SIGTERM/SIGINT/SIGHUP. `ready` runs once libfuse's signal handlers are in
  // place (a caller may then take over SIGHUP for itself).
  int run(unsigned max_threads, const std::function<void()>& ready);
  void exit();

 private:
  View& view_;
  struct fuse_session* se_ = nullptr;
  bool signals_ = false;
};

// True when `path` is a FUSE mount whose daemon is gone (ENOTCONN).
bool is_dead_mount(const std::string& path);

}  // namespace gw::fs
