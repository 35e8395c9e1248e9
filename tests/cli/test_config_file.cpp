// The scan that keeps the config file's line numbers: it must see the same
// entries, in the same order, as Boost's parser.
#include "gateway/config_file.hpp"
#include "gateway/exit_codes.hpp"
#include "support/catch.hpp"

using gw::gateway::ConfigFile;
using gw::gateway::scan_config;

TEST_CASE("config scan keeps the line of every entry", "[cli][config]") {
  const ConfigFile file = scan_config("/etc/sftp-gateway/gateway.conf",
                                      "# header\n\nmap = a:b:c  # trailing\r\n  users=x:1\n\t\nmap= # empty value\n");
  CHECK(file.name == "gateway.conf");
  REQUIRE(file.entries.size() == 3);
  CHECK(file.entries[0].line == 3);
  CHECK(file.entries[0].key == "map");
  CHECK(file.entries[0].value == "a:b:c");
  CHECK(file.entries[1].line == 4);
  CHECK(file.entries[1].key == "users");
  CHECK(file.entries[1].value == "x:1");
  CHECK(file.entries[2].line == 6);
  CHECK(file.entries[2].value.empty());
  CHECK(file.line_of("map") == 3);
  CHECK(file.line_of("map", 1) == 6);
  CHECK(file.line_of("map", 2) == 0);
  CHECK(file.line_of("port") == 0);
  CHECK(file.where(6) == "gateway.conf line 6");
}

TEST_CASE("config scan refuses lines Boost would reject or misread", "[cli][config]") {
  using gw::gateway::UsageError;
  CHECK_THROWS_WITH(scan_config("g.conf", "users = a:1\nnonsense\n"), Catch::StartsWith("g.conf line 2: "));
  CHECK_THROWS_WITH(scan_config("g.conf", "= 3\n"), Catch::StartsWith("g.conf line 1: "));
  CHECK_THROWS_WITH(scan_config("g.conf", "\n[section]\n"), Catch::StartsWith("g.conf line 2: "));
  CHECK_THROWS_AS(scan_config("g.conf", "x\n"), UsageError);
  CHECK(scan_config("g.conf", "").entries.empty());
}
