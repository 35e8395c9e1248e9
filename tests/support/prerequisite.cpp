#include "support/prerequisite.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace gw::test {

void require(bool present, const std::string& what) {
  if (present) return;
  const char* ci = std::getenv("CI");
  const bool in_ci = ci != nullptr && std::string_view(ci) == "true";
  std::fprintf(stderr, "prerequisite missing: %s%s\n", what.c_str(),
               in_ci ? " (CI=true: failing instead of skipping)" : " (skipped)");
  std::exit(in_ci ? 1 : 77);
}

void require_root() { require(geteuid() == 0, "root (run the tests as root)"); }

void require_fuse() {
  require_root();
  require(access("/dev/fuse", R_OK | W_OK) == 0, "/dev/fuse");
  require(access("/usr/bin/fusermount3", X_OK) == 0 || access("/bin/fusermount3", X_OK) == 0,
          "fusermount3 (package fuse3)");
}

void require_program(const std::string& name) {
  const std::string cmd = "command -v " + name + " >/dev/null 2>&1";
  require(std::system(cmd.c_str()) == 0, name + " on PATH");
}

void require_sshd() {
  require(access("/usr/sbin/sshd", X_OK) == 0 && getpwnam("sshd") != nullptr,
          "/usr/sbin/sshd and the 'sshd' account (package openssh-server)");
}

}  // namespace gw::test
