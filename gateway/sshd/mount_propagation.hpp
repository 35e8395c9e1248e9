// Host mode: sshd runs in its own mount namespace. For a restarted worker's
// new mount to reach it, the mountpoint must be a shared mount in the
// gateway's namespace (sshd's copy is then its slave).
#pragma once

#include <string>

namespace gw::gateway {

// Makes `path` a shared bind mount of itself unless it already is one
// (detaching a dead FUSE mount left on it first). Throws ExitError. True
// when it made the bind mount (the caller removes it on exit).
bool make_mountpoint_shared(const std::string& path);

}  // namespace gw::gateway
