// The processes of host mode's sshd: its listener and every session it
// forked. They share the mount namespace the gateway made for sshd
// (sshd/supervisor.hpp), and a session outlives its listener (re-parented
// to init or a subreaper), so they are found by namespace, not parentage:
// what a drain on shutdown waits for.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace gw::gateway {

// A mount namespace's identity: its nsfs inode.
struct MountNamespace {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const MountNamespace&) const = default;
};

// pid's mount namespace; nullopt when the process is gone.
std::optional<MountNamespace> mount_namespace_of(pid_t pid);

// Every process in `ns`, read from /proc.
std::vector<pid_t> processes_in(const MountNamespace& ns);

// "123 (sshd: ryan@notty)", for the log.
std::string describe_process(pid_t pid);

// SIGTERM to each process in `ns`, SIGKILL to those left after `grace`.
// Returns how many could not be signalled (a session runs as its user:
// without CAP_KILL only root's sshd processes can be).
std::size_t end_processes_in(const MountNamespace& ns, std::chrono::milliseconds grace);

}  // namespace gw::gateway
