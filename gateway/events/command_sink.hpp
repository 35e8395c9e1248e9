// The event command: a program the gateway runs once per event, with the
// event's JSON on stdin and its facts in GATEWAY_EVENT_* variables
// (command_env.hpp), as an unprivileged user, killed at the time limit.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "gateway/events/sink.hpp"

namespace gw::gateway {

class CommandSink final : public Sink {
 public:
  // `path`: absolute, executable (options checked it). `uid`/`gid`: who the
  // command runs as, with no supplementary groups and no capabilities.
  CommandSink(std::string path, uid_t uid, gid_t gid, double timeout_seconds);

  const std::string& name() const override { return name_; }
  // Exit 0: ok. Otherwise "exit 3", "killed by signal 9", "timed out after
  // 10 s", or why it could not start ("cannot start /x: execve: ...").
  DeliveryResult deliver(const SpooledEvent& event) override;

 private:
  const std::string name_ = "command";
  const std::string path_;
  const uid_t uid_;
  const gid_t gid_;
  const std::chrono::milliseconds timeout_;
  const std::string timeout_text_;  // "10 s"
};

}  // namespace gw::gateway
