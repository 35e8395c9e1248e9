#include "gateway/sshd/accounts.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <unordered_set>

namespace gw::gateway {
namespace {

// The databases are rebuilt whole at every change of the users, 6 MB at
// 100,000 users: appended to one reserved string, numbers by to_chars
// (a stream took several times as long).
void append_number(std::string& out, unsigned n) {
  char digits[16];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

// Each line's first field, the name, then `tail`: the names were validated
// when the users were parsed (no ':' and no newline in them).
std::string per_name(const std::string& database, std::string_view tail) {
  std::string out;
  out.reserve(database.size() / 2);
  for (std::size_t at = 0; at < database.size();) {
    const std::size_t eol = std::min(database.find('\n', at), database.size());
    const std::size_t colon = database.find(':', at);
    if (colon != std::string::npos && colon > at && colon < eol) {
      out.append(database, at, colon - at);
      out += tail;
    }
    at = eol + 1;
  }
  return out;
}

}  // namespace

std::string render_passwd(const std::vector<mapping::User>& users, const PrivsepAccount& privsep) {
  std::string o;
  o.reserve(128 + users.size() * 64);
  o += "root:x:0:0:root:/root:/usr/sbin/nologin\nsshd:x:";
  append_number(o, privsep.uid);
  o += ':';
  append_number(o, privsep.gid);
  o += "::/run/sshd:/usr/sbin/nologin\n";
  for (const auto& u : users) {
    o += u.name;
    o += ":*:";
    append_number(o, u.uid);
    o += ':';
    append_number(o, u.gid);
    o += ":sftp user:/";
    o += u.name;
    o += ":/usr/sbin/nologin\n";
  }
  return o;
}

std::string render_group(const std::vector<mapping::User>& users, const PrivsepAccount& privsep) {
  std::string o;
  o.reserve(64 + users.size() * 24);
  std::unordered_set<unsigned> seen{0, privsep.gid};
  seen.reserve(users.size() + 2);
  o += "root:x:0:\n";
  if (privsep.gid == 65534) {
    o += "nogroup:x:65534:\n";
  } else {
    o += "sshd:x:";
    append_number(o, privsep.gid);
    o += ":\n";
  }
  // A group per distinct gid, named after its first user; members stay
  // empty so nobody gains a supplementary group.
  for (const auto& u : users)
    if (seen.insert(u.gid).second) {
      o += u.name;
      o += ":x:";
      append_number(o, u.gid);
      o += ":\n";
    }
  return o;
}

// name:password:lastchg:min:max:warn:inactive:expire:reserved; the empty
// fields turn ageing and expiry off (a lastchg of 0 would force a change).
std::string render_shadow(const std::string& passwd) { return per_name(passwd, ":*:::::::\n"); }

// name:password:admins:members
std::string render_gshadow(const std::string& group) { return per_name(group, ":*::\n"); }

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
