#include "gateway/sshd/etc_tree.hpp"

namespace gw::gateway {

std::vector<fs::SyntheticFile> render_etc(const EtcInput& in) {
  std::vector<fs::SyntheticFile> files;
  files.reserve(2 * in.host_keys.size() + 3 + in.users->size());
  SshdConfigInput sshd = in.sshd;
  sshd.host_keys.clear();
  for (const auto& k : in.host_keys) {
    sshd.host_keys.push_back(k.file);
    // Private keys: root only (the kernel enforces the mode for everyone else).
    files.push_back({"etc/ssh/" + k.file, k.private_key, 0600, 0});
    files.push_back({"etc/ssh/" + k.file + ".pub", k.public_line + "\n", 0644, 0});
  }
  files.push_back({"etc/ssh/sshd_config", render_sshd_config(sshd), 0644, 0});
  files.push_back(passwd_file(in.passwd));
  files.push_back(group_file(in.group));
  for (const auto& u : *in.users) files.push_back(authorized_keys_file(u, in.keys->text(u.name)));
  return files;
}

fs::SyntheticFile authorized_keys_file(const mapping::User& user, std::string text) {
  return {authorized_keys_path(user.name), std::move(text), 0644, user.uid};
}

std::string authorized_keys_path(const std::string& user) { return "etc/ssh/authorized_keys/" + user; }

fs::SyntheticFile passwd_file(std::string text) { return {"etc/passwd", std::move(text), 0644, 0}; }
fs::SyntheticFile group_file(std::string text) { return {"etc/group", std::move(text), 0644, 0}; }

}  // namespace gw::gateway
