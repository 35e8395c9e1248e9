#include "gateway/sshd/accounts.hpp"

#include <set>
#include <sstream>

namespace gw::gateway {
namespace {

// The first field of each line: the names were validated when the users
// were parsed (no ':' and no newline in them).
std::vector<std::string> names_of(const std::string& database) {
  std::vector<std::string> names;
  std::istringstream in(database);
  for (std::string line; std::getline(in, line);)
    if (const auto colon = line.find(':'); colon != std::string::npos && colon > 0) names.push_back(line.substr(0, colon));
  return names;
}

}  // namespace

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

std::string render_shadow(const std::string& passwd) {
  std::string out;
  // name:password:lastchg:min:max:warn:inactive:expire:reserved; the empty
  // fields turn ageing and expiry off (a lastchg of 0 would force a change).
  for (const auto& name : names_of(passwd)) out += name + ":*:::::::\n";
  return out;
}

std::string render_gshadow(const std::string& group) {
  std::string out;
  for (const auto& name : names_of(group)) out += name + ":*::\n";  // name:password:admins:members
  return out;
}

std::string render_nsswitch() {
  return "# sshd's name service switch, written by the gateway: accounts come from its files only.\n"
         "passwd: files\n"
         "group: files\n"
         "shadow: files\n"
         "gshadow: files\n"
         "hosts: files dns\n"
         "networks: files\n"
         "protocols: files\n"
         "services: files\n"
         "ethers: files\n"
         "rpc: files\n"
         "netgroup: files\n";
}

}  // namespace gw::gateway
