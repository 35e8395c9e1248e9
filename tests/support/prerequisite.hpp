// Prerequisites of a test binary (root, /dev/fuse, a program on PATH).
// Missing outside CI: exit 77, which ctest reports as skipped. Missing in CI
// (CI=true): exit 1, so a skipped test can never hide in a green run.
#pragma once

#include <string>

namespace gw::test {

void require(bool present, const std::string& what);
void require_root();
void require_fuse();
void require_program(const std::string& name);
// OpenSSH's sshd and its privilege separation account (openssh-server):
// `check` asks them as `serve` does, unless told --openssh-version/--sshd-uid.
void require_sshd();

}  // namespace gw::test
