// libFuzzer target: users and rules parsing. Input: users text, a newline,
// rules text. Besides "no crash", it checks the round trip: whatever parses
// renders to text that parses back to the same model, and the plan gives
// one folder one limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "mapping/parse.hpp"
#include "mapping/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view users = input.substr(0, newline);
  const std::string_view rules = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  gw::mapping::Input in{gw::mapping::split_list(users, "SFTP_USERS"), gw::mapping::split_list(rules, "SFTP_VOLUMES")};
  const gw::mapping::Parsed parsed = gw::mapping::parse(in);
  for (const auto& p : parsed.problems) {
    const std::string line = p.line();
    if (line.find('\n') != std::string::npos) std::abort();  // a problem is one line
  }
  // Round trip of the part that parsed.
  gw::mapping::Input again{gw::mapping::split_list(gw::mapping::render_users(parsed.model.users), "u"),
                           gw::mapping::split_list(gw::mapping::render_rules(parsed.model.rules), "r")};
  const gw::mapping::Parsed reparsed = gw::mapping::parse(again);
  if (!reparsed.ok() || !(reparsed.model == parsed.model)) std::abort();
  // Every mapping of one folder carries that folder's one limit.
  gw::mapping::Defaults defaults;
  defaults.home_limit.bytes = 1u << 30;
  defaults.umask = 027;
  const gw::mapping::Plan plan = gw::mapping::make_plan(parsed.model, {"/data", "/volumes"}, defaults);
  std::map<std::string, gw::mapping::Limit> limits;
  for (const auto& user : plan.users) {
    if (!user.home_limit.bytes) std::abort();
    for (const auto& mount : user.mounts) {
      const auto [it, fresh] = limits.try_emplace(gw::mapping::folder_key(mount.volume, mount.subdir), mount.limit);
      if (!fresh && !(it->second == mount.limit)) std::abort();
    }
  }
  return 0;
}
