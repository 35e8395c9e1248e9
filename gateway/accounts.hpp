// passwd and group for the sshd side, rendered from the users: sshd resolves
// accounts through these, so adding a user needs no change there.
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

}  // namespace gw::gateway
