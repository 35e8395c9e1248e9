// tests/support/event_receiver.py as a process on 127.0.0.1 for one test:
// started with its own secret, out file and a free port, stopped with
// SIGTERM (and reaped) when the test ends.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cli/cli_support.hpp"

namespace gw::test {

class EventReceiver {
 public:
  // `extra`: more of the receiver's options ("--status", "500", ...).
  explicit EventReceiver(const std::string& secret, const std::vector<std::string>& extra = {});
  ~EventReceiver();
  EventReceiver(const EventReceiver&) = delete;
  EventReceiver& operator=(const EventReceiver&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/events"; }
  // One object per request received so far (the --out lines).
  std::vector<nlohmann::json> records() const;

 private:
  void stop();

  TempDir dir_;
  pid_t pid_ = -1;
  unsigned port_ = 0;
};

}  // namespace gw::test
