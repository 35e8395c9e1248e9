// What a running gateway leaves for `gateway status`, `reload` and `keys`:
// <state-dir>/runtime, `key=value` lines rewritten atomically at start and
// after every reload, removed on a clean exit.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace gw::gateway {

struct RuntimeState {
  pid_t pid = 0;             // the FUSE worker
  unsigned reloads = 0;      // reload attempts so far
  std::string last_reload;   // "ok", or why the last reload was refused
  std::string mountpoint;
  std::string users;         // the served users, as `--users` takes them (`gateway keys` without users)
};

void write_runtime(const std::string& state_dir, const RuntimeState& s);
std::optional<RuntimeState> read_runtime(const std::string& state_dir);
void remove_runtime(const std::string& state_dir);

// Host mode: the supervisor's record of the sshd it runs (<state-dir>/sshd.pid).
std::string sshd_pid_path(const std::string& state_dir);
pid_t read_sshd_pid(const std::string& state_dir);
// Host mode: the gateway's account files that sshd's /etc links to (sshd/private_etc.hpp).
std::string sshd_etc_path(const std::string& state_dir);
void remove_sshd_pid(const std::string& state_dir);

// The valid keys the view serves for user: <state_dir>/authorized_keys/<user>
// and --authorized-keys-dir's (empty: none), each key once.
unsigned count_keys(const std::string& state_dir, const std::string& provided_dir, const std::string& user);

}  // namespace gw::gateway
