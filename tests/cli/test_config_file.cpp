// The scan that keeps the config file's line numbers: it must see the same
// entries, in the same order, as Boost's parser.
#include "gateway/options/config_file.hpp"
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

TEST_CASE("config scan refuses every line Boost would reject or misread", "[cli][config]") {
  const ConfigFile file = scan_config("g.conf", "users = a:1\nnonsense\n= 3\n[section]\nport = 5\nx\n");
  REQUIRE(file.problems.size() == 4);
  CHECK_THAT(file.problems[0], Catch::StartsWith("g.conf line 2: expected `key = value`, got 'nonsense'"));
  CHECK_THAT(file.problems[1], Catch::StartsWith("g.conf line 3: missing key"));
  CHECK_THAT(file.problems[2], Catch::StartsWith("g.conf line 4: sections are not supported"));
  CHECK_THAT(file.problems[3], Catch::StartsWith("g.conf line 6: "));
  // The other lines are still read, and only they reach Boost.
  REQUIRE(file.entries.size() == 2);
  CHECK(file.entries[1].line == 5);
  CHECK(file.entries_text() == "port=5\n");  // users goes round Boost (is_list_key)
  CHECK(scan_config("g.conf", "").entries.empty());
  CHECK(scan_config("g.conf", "").problems.empty());
}

TEST_CASE("a config problem quotes at most 200 bytes of its line, escaped", "[cli][config]") {
  const ConfigFile file = scan_config("g.conf", "users = a:1\n\x1b]0;pwned\x07" + std::string(5000, 'x') + "\n");
  REQUIRE(file.problems.size() == 1);
  const std::string& line = file.problems.front();
  INFO(line);
  CHECK_THAT(line, Catch::StartsWith("g.conf line 2: expected `key = value`, got '\\x1b]0;pwned\\x07xxx"));
  CHECK_THAT(line, Catch::EndsWith("xxx...'"));
  CHECK(line.size() < 300);
  for (const char c : line) CHECK((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
}
