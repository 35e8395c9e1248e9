// The read-only etc/ tree the view serves to sshd: its config, host keys,
// each user's authorized keys, and the account database.
#pragma once

#include <string>
#include <vector>

#include "fs/layout.hpp"
#include "gateway/sshd/accounts.hpp"
#include "gateway/keys/host_keys.hpp"
#include "gateway/sshd/config.hpp"
#include "mapping/model.hpp"

namespace gw::gateway {

struct EtcInput {
  SshdConfigInput sshd;
  PrivsepAccount privsep;
  std::vector<HostKey> host_keys;
  std::vector<mapping::User> users;
  std::string state_dir;  // authorized keys live in <state_dir>/authorized_keys/<user>
  std::string keys_dir;   // --authorized-keys-dir: more keys, read-only; empty: none
};

std::vector<fs::SyntheticFile> render_etc(const EtcInput& in);

}  // namespace gw::gateway
