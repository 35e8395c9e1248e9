// Host mode: the /etc that sshd sees. sshd runs in a mount namespace of its
// own where /etc is a small read-only tmpfs holding one symlink per
// top-level entry of the host's /etc (reached through a clone of it mounted
// at /etc/.gateway-host-etc), except the account databases, which link to
// the gateway's files in <state-dir>/sshd-etc. A host tool that replaces its
// /etc/passwd by rename (useradd, vipw) changes the host's folder, not
// sshd's /etc, and the worker replaces the gateway's files by rename too:
// the links reach each new file at once, and a reader never sees half of one.
// They are real files, not the view's: sshd resolves accounts even while a
// worker restarts.
//
// Built here and checked here (gateway status), so the two cannot drift.
#pragma once

#include <sys/types.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace gw::gateway {

// What sshd takes from the gateway, never from the host.
inline constexpr std::array<std::string_view, 5> kGatewayEtcNames{"passwd", "group", "shadow", "gshadow",
                                                                  "nsswitch.conf"};

// Writes the gateway's files into `dir` (created if missing), each replaced
// whole. Throws ExitError naming the file that could not be written.
void write_sshd_etc(const std::string& dir, const std::string& passwd, const std::string& group);

// sshd's /etc as symlinks, listed by the supervisor before it forks (the
// child may only make syscalls). A top-level entry the host adds to its
// /etc later is seen from sshd's next start on.
struct SshdEtcLink {
  std::string path;    // "/etc/<name>"
  std::string target;  // the link's text
};
struct SshdEtcPlan {
  std::vector<SshdEtcLink> links;
};
SshdEtcPlan plan_sshd_etc(const std::string& gateway_etc);

// In the forked child, inside its new mount namespace: puts the plan over
// /etc. Only syscalls. Returns nullptr, or the step that failed with errno
// set (for perror).
const char* mount_sshd_etc(const SshdEtcPlan& plan);

// From outside (gateway status): "" when sshd (`pid`) resolves its accounts
// through the gateway's files in `gateway_etc`, else why not. Reads sshd's
// own namespace through /proc/<pid>/root, not the caller's /etc.
std::string sshd_etc_problem(pid_t pid, const std::string& gateway_etc);

}  // namespace gw::gateway
