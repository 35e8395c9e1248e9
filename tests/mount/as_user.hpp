// Running actions as an sftp user: a forked child takes the user's identity
// (optionally chrooted first, as sshd does) and reports back through a pipe.
// The test process stays root, so it can prepare and inspect backing stores.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace gw::mount_test {

struct Who {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string chroot{};  // non-empty: chroot here as root, then drop privileges
};

inline Who root_user() { return Who{}; }

// Runs `body` in a child with `who`'s identity (setgroups(0), setgid, setuid,
// umask 022) and returns what it returned. A child that crashes, fails to
// switch identity or runs longer than `timeout_s` (a blocked FUSE call) throws
// std::runtime_error, so the test fails instead of hanging.
std::string run_as(const Who& who, const std::function<std::string()>& body, unsigned timeout_s = 20);

// The outcome of one syscall: its return value (-1 on failure) and errno.
struct Outcome {
  long rc = 0;
  int err = 0;
  bool ok() const { return rc >= 0; }
  std::string str() const;  // "ok" / "ok 5" / "EACCES"
};

// Runs one call (returning -1 and setting errno on failure) as `who`.
Outcome call_as(const Who& who, const std::function<long()>& call, unsigned timeout_s = 20);

// A record of calls and their outcomes, one line each, made in the child. The
// same script run on a native folder and through the view must produce the
// same lines.
class Transcript {
 public:
  // Records "what -> ok", "what -> ok N" for a positive result, or
  // "what -> ENOENT" (from errno) when rc < 0.
  void call(const std::string& what, long rc);
  // Like call, but an fd result is closed and recorded as plain "ok".
  void open(const std::string& what, int fd);
  void note(const std::string& what, const std::string& value);
  void stat(const std::string& path);  // lstat: describe() or the errno
  void list(const std::string& dir);   // the sorted names, or the errno
  std::string text() const;

 private:
  std::vector<std::string> lines_;
};

using Script = std::function<void(Transcript&)>;

// Runs `script` as `who` with `dir` as the working directory (relative paths
// in the script then mean the same thing in both folders); returns its lines.
std::vector<std::string> transcript_as(const Who& who, const std::string& dir, const Script& script);

std::vector<std::string> split_lines(const std::string& text);

}  // namespace gw::mount_test
