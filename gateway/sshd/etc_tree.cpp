#include "gateway/sshd/etc_tree.hpp"

#include "gateway/keys/key_store.hpp"

namespace gw::gateway {

std::vector<fs::SyntheticFile> render_etc(const EtcInput& in) {
  std::vector<fs::SyntheticFile> files;
  SshdConfigInput sshd = in.sshd;
  sshd.host_keys.clear();
  for (const auto& k : in.host_keys) {
    sshd.host_keys.push_back(k.file);
    // Private keys: root only (the kernel enforces the mode for everyone else).
    files.push_back({"etc/ssh/" + k.file, k.private_key, 0600, 0});
    files.push_back({"etc/ssh/" + k.file + ".pub", k.public_line + "\n", 0644, 0});
  }
  files.push_back({"etc/ssh/sshd_config", render_sshd_config(sshd), 0644, 0});
  files.push_back({"etc/passwd", render_passwd(in.users, in.privsep), 0644, 0});
  files.push_back({"etc/group", render_group(in.users, in.privsep), 0644, 0});
  // sshd reads a user's keys after switching to that user's uid, so the mode
  // is 0644 (0600 would lock sshd out); the view itself lets only root and
  // that user read it.
  for (const auto& u : in.users)
    files.push_back({"etc/ssh/authorized_keys/" + u.name, render_authorized_keys(in.state_dir, in.keys_dir, u.name), 0644, u.uid});
  return files;
}

}  // namespace gw::gateway
