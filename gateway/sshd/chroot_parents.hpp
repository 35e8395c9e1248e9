// The folders above the view, as sshd judges them. sshd chroots each user
// into <view>/data/<user>-chroot and first checks every component of that
// path from / (OpenSSH's safely_chroot, as root): each must be a directory
// owned by root and not writable by group or others, or every login fails
// with "bad ownership or modes for chroot directory component" in sshd's log
// alone. The view itself and what is inside it are the gateway's own
// (root-owned, 0755 and 0750); the folders above it are the host's.
#pragma once

#include "gateway/options/options.hpp"
#include "mapping/problem.hpp"

namespace gw::gateway {

// The path sshd sees the view at must be absolute (sshd refuses a relative
// ChrootDirectory). Its parents are checked here only where this process
// sees what sshd sees: in host mode (sshd runs beside it, in a private mount
// namespace of the same filesystem) or when --sshd-view is the mountpoint
// (the default: an sshd on this host, or the compose stack, whose two
// containers mount the same host folder at the same path, /srv). A different
// --sshd-view is a path in another container's filesystem, which this
// process cannot stat: `check` says so in a warning.
//
// At most one problem: the first parent sshd would refuse, as sshd stops
// there too. A parent that does not exist yet ends the walk: serve creates
// the rest, root-owned.
mapping::Problems chroot_parent_problems(const Settings& settings);

// Whether chroot_parent_problems can look at the parents sshd will check.
bool sshd_view_is_local(const Settings& settings);

}  // namespace gw::gateway
