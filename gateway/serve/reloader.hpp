// Live changes: SIGHUP (what `gateway reload` sends), or a change of the
// config file or of the authorized keys, makes the gateway re-read its
// configuration and swap the served tree.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "fs/unique_fd.hpp"

namespace gw::gateway {

class Reloader {
 public:
  // `watch`: files or folders whose changes trigger a reload (a file is
  // watched through its folder, since editors replace files by renaming).
  Reloader(std::function<void()> reload, std::vector<std::string> watch);
  ~Reloader();
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  void start();
  void stop();

 private:
  void loop();
  bool relevant(const char* buf, long len) const;

  std::function<void()> reload_;
  std::vector<std::string> watch_;
  std::vector<std::pair<int, std::string>> file_watches_;  // watch descriptor -> file name ("" = any)
  fs::UniqueFd inotify_;
  fs::UniqueFd stop_read_, stop_write_;
  std::thread thread_;
};

}  // namespace gw::gateway
