// The account databases sshd resolves in host mode: shadow and gshadow hold
// exactly the accounts of passwd and group, none locked, none ageing, and the
// name service switch takes accounts from those files alone.
#include "gateway/sshd/accounts.hpp"
#include "support/catch.hpp"

#include <sstream>

using namespace gw::gateway;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("shadow has one unlocked, non-ageing entry per passwd account") {
  const std::vector<gw::mapping::User> users{{"ryan", 1000, 1000}, {"gary", 1001, 1000}};
  const std::string passwd = render_passwd(users, PrivsepAccount{});
  // name:password:lastchg:min:max:warn:inactive:expire:reserved; a lastchg
  // of 0 would make sshd demand a password change, `!` would lock.
  CHECK(lines_of(render_shadow(passwd)) ==
        std::vector<std::string>{"root:*:::::::", "sshd:*:::::::", "ryan:*:::::::", "gary:*:::::::"});
}

TEST_CASE("gshadow has one entry per group, no administrators, no members") {
  const std::vector<gw::mapping::User> users{{"ryan", 1000, 1000}, {"gary", 1001, 1000}, {"dave", 1002, 1002}};
  const std::string group = render_group(users, PrivsepAccount{});
  CHECK(lines_of(render_gshadow(group)) ==
        std::vector<std::string>{"root:*::", "nogroup:*::", "ryan:*::", "dave:*::"});
}

TEST_CASE("the name service switch takes every account database from files alone") {
  int account_databases = 0;
  for (const auto& line : lines_of(render_nsswitch())) {
    for (const char* db : {"passwd:", "group:", "shadow:", "gshadow:", "initgroups:"})
      if (line.rfind(db, 0) == 0) {
        ++account_databases;
        CHECK(line == std::string(db) + " files");
      }
  }
  CHECK(account_databases == 4);
}
