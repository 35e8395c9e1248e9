// libFuzzer target: users and rules parsing. Input: users text, a newline,
// rules text. Besides "no crash", it checks the round trip: whatever parses
// renders to text that parses back to the same model.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
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
  (void)gw::mapping::make_plan(parsed.model, {"/data", "/volumes"});
  return 0;
}
