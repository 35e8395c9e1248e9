#include "gateway/accounts.hpp"

#include <set>
#include <sstream>

namespace gw::gateway {

std::string render_passwd(const std::vector<mapping::User>& users, const PrivsepAccount& privsep) {
  std::ostringstream o;
  o << "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    << "sshd:x:" << privsep.uid << ':' << privsep.gid << "::/run/sshd:/usr/sbin/nologin\n";
  for (const auto& u : users)
    o << u.name << ":*:" << u.uid << ':' << u.gid << ":sftp user:/" << u.name << ":/usr/sbin/nologin\n";
  return o.str();
}

std::string render_group(const std::vector<mapping::User>& users, const PrivsepAccount& privsep) {
  std::ostringstream o;
  std::set<unsigned> seen{0, privsep.gid};
  o << "root:x:0:\n";
  if (privsep.gid == 65534) o << "nogroup:x:65534:\n";
  else o << "sshd:x:" << privsep.gid << ":\n";
  // A group per distinct gid, named after its first user; members stay
  // empty so nobody gains a supplementary group.
  for (const auto& u : users)
    if (seen.insert(u.gid).second) o << u.name << ":x:" << u.gid << ":\n";
  return o.str();
}

}  // namespace gw::gateway
