// The sessions of host mode's sshd: the processes its listener forked, one
// per connection (the privileged monitor; the user's process is its child
// and ends with it). A session outlives its listener, re-parented to init,
// so they are listed while the listener still holds them: what a drain on
// shutdown waits for. Read from /proc/<pid>/stat only, which needs no
// capability (a process's namespaces or exe would need CAP_SYS_PTRACE: sshd's
// processes are not dumpable).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace gw::gateway {

// A process, told apart from a later one with its pid by its start time.
struct Process {
  pid_t pid = 0;
  unsigned long long start = 0;  // field 22 of /proc/<pid>/stat, in clock ticks since boot
};

// The children of `parent` (from every process's parent field).
std::vector<Process> children_of(pid_t parent);

// Whether the process still runs: there, not a zombie (an init that reaps
// no orphans leaves those), and not a later process with its pid.
bool running(const Process& p);

// Those of `processes` still running.
std::vector<Process> still_running(const std::vector<Process>& processes);

// Stops `pid` (SIGSTOP) and waits up to a second until it is stopped, so it
// forks nothing while its children are listed. False if it never stopped.
bool stop_process(pid_t pid);

// "123 (sshd: ryan [priv])", for the log.
std::string describe_process(pid_t pid);

// SIGTERM to each process still running, SIGKILL to those left after
// `grace`. Returns how many could not be signalled (no CAP_KILL for another
// user's process).
std::size_t end_processes(const std::vector<Process>& processes, std::chrono::milliseconds grace);

}  // namespace gw::gateway
