// The hardened sshd_config the gateway renders into the view's etc/ tree.
// Pure: settings in, text out.
#pragma once

#include <string>
#include <vector>

namespace gw::gateway {

struct OpensshVersion {
  int major = 9;
  int minor = 2;
  bool at_least(int maj, int min) const { return major > maj || (major == maj && minor >= min); }
};

// "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL ..." or "9.2" -> {9, 2}; nullopt-free:
// returns false when the text holds no version.
bool parse_openssh_version(const std::string& text, OpensshVersion* out);

struct SshdConfigInput {
  std::string view;                      // the view's path as sshd sees it
  std::vector<std::string> listen;       // ListenAddress values
  unsigned port = 2000;
  OpensshVersion version;
  std::vector<std::string> host_keys;    // file names inside <view>/etc/ssh
};

std::string render_sshd_config(const SshdConfigInput& in);

}  // namespace gw::gateway
