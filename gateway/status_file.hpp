// What a running gateway tells `gateway status` and `gateway reload`:
// <state-dir>/status.json (rewritten atomically at start and after every
// reload) and <state-dir>/gateway.pid.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include "mapping/plan.hpp"

namespace gw::gateway {

struct StatusSnapshot {
  pid_t pid = 0;
  std::string mountpoint;
  unsigned reloads = 0;
  std::string last_reload;        // "ok" or the first problem of a refused reload
  bool sshd_managed = false;
  pid_t sshd_pid = 0;
  unsigned port = 0;
  const mapping::Plan* plan = nullptr;
  std::string state_dir;          // to count each user's keys
};

void write_status(const StatusSnapshot& s);
void write_pid_file(const std::string& state_dir);
void remove_runtime_files(const std::string& state_dir);

std::string status_path(const std::string& state_dir);
std::string pid_path(const std::string& state_dir);

// Non-comment, non-blank lines of <state_dir>/authorized_keys/<user>.
unsigned count_keys(const std::string& state_dir, const std::string& user);

}  // namespace gw::gateway
