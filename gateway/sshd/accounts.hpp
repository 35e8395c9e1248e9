// The account databases for the sshd side, rendered from the users: sshd
// resolves accounts through these, so adding a user needs no change there.
#pragma once

#include <string>
#include <vector>

#include "mapping/model.hpp"

namespace gw::gateway {

struct PrivsepAccount {
  unsigned uid = 102;  // sshd's privilege separation user in its own image
  unsigned gid = 65534;
};

// root, the privilege separation user `sshd`, nogroup, and each sftp user
// with password field `*` (no password, yet not "locked" for UsePAM no), no
// shell, home /<user> (inside the chroot), no supplementary groups.
std::string render_passwd(const std::vector<mapping::User>& users, const PrivsepAccount& privsep);
std::string render_group(const std::vector<mapping::User>& users, const PrivsepAccount& privsep);

// One entry per account of `passwd` (per group of `group`), password `*`
// and no ageing: sshd (UsePAM no) takes an account's locked or expired state
// from shadow, so the gateway's accounts must not find that state anywhere
// else (a host account of the same name with a locked `!` password).
std::string render_shadow(const std::string& passwd);
std::string render_gshadow(const std::string& group);

// sshd's name service switch: the account databases come from those files
// alone, never from another source of the host's (systemd's userdb, LDAP).
std::string render_nsswitch();

}  // namespace gw::gateway
