// The one way gateway/ writes a file that others read while it runs (the
// authorized keys, the host keys, the runtime status, sshd's account files in
// host mode): a reader sees the old content or the new, never half of either,
// and a crash leaves one of them.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace gw::gateway {

// Replaces `name` (one component) in the folder open as `dir` with
// `content`. The new content goes to the temporary ".<name>.new" in the same
// folder, created with `mode` (set exactly, whatever the umask, before a
// byte is written: never more open than the result), fsynced, renamed over
// `name`; then the folder is fsynced, so the rename survives a crash too.
// On a failure the temporary is removed, `name` is as it was, and ExitError
// (exit code 1) reads "cannot write <label>: <step>: <reason>".
// The temporary's name is fixed, so a crashed run's leftover is replaced,
// not piled up: one writer per file at a time (the caller holds a lock, or
// is the file's only writer).
// Sync::rename_only skips both fsyncs, for files that are rewritten at
// every start (the runtime state, sshd's account files): the rename alone
// keeps readers atomic, and after a crash the next start writes them anew.
enum class Sync { durable, rename_only };
void replace_file_at(int dir, const std::string& name, std::string_view content, mode_t mode, const std::string& label,
                     Sync sync = Sync::durable);

// The same for `path`, whose folder comes from trusted configuration (the
// state folder): the folder is opened once, a symlink in its place refused,
// and everything after is relative to it.
void replace_file(const std::string& path, std::string_view content, mode_t mode, Sync sync = Sync::durable);

}  // namespace gw::gateway
