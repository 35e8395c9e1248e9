// The read-only etc/ tree the view serves to sshd: its config, host keys,
// each user's authorized keys, and the account database.
#pragma once

#include <string>
#include <vector>

#include "fs/layout.hpp"
#include "gateway/keys/host_keys.hpp"
#include "gateway/keys/key_cache.hpp"
#include "gateway/sshd/config.hpp"
#include "mapping/model.hpp"

namespace gw::gateway {

struct EtcInput {
  SshdConfigInput sshd;
  std::vector<HostKey> host_keys;
  const std::vector<mapping::User>* users = nullptr;
  std::string passwd, group;                 // rendered once, by the caller (sshd/accounts.hpp)
  const AuthorizedKeysCache* keys = nullptr;  // scanned by the caller
};

std::vector<fs::SyntheticFile> render_etc(const EtcInput& in);

// etc/ssh/authorized_keys/<user>: sshd reads a user's keys after switching
// to that user's uid, so the mode is 0644 (0600 would lock sshd out); the
// view itself lets only root and that user read it.
fs::SyntheticFile authorized_keys_file(const mapping::User& user, std::string text);
std::string authorized_keys_path(const std::string& user);

// etc/passwd and etc/group (sshd/accounts.hpp renders them).
fs::SyntheticFile passwd_file(std::string text);
fs::SyntheticFile group_file(std::string text);

}  // namespace gw::gateway
