// Parsing what admins write: lists, users, rules and their options, and the
// one-line form of a problem.
#include "mapping_support.hpp"
#include "support/catch.hpp"

using namespace gw::mapping;
using gw::test::all_lines;
using gw::test::make_rule;
using gw::test::parse_env;

namespace {

Rule parse_one_rule(std::string_view rule) {
  const Parsed parsed = parse_env("ryan:54321", rule);
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  REQUIRE(parsed.model.rules.size() == 1);
  return parsed.model.rules.front();
}

}  // namespace

TEST_CASE("split_list labels the non-empty items from 1 and trims blanks", "[mapping][parse]") {
  const auto items = split_list(" ryan:1 ,, \tgary:2\t,\n,", "SFTP_USERS");
  REQUIRE(items.size() == 2);
  CHECK(items[0].text == "ryan:1");
  CHECK(items[0].source == "SFTP_USERS item 1");
  CHECK(items[1].text == "gary:2");
  CHECK(items[1].source == "SFTP_USERS item 2");
  CHECK(split_list("", "SFTP_USERS").empty());
  CHECK(split_list(" , ,", "SFTP_USERS").empty());
}

TEST_CASE("the seed's own example parses to the expected model", "[mapping][parse]") {
  const Parsed parsed =
      parse_env("ryan:54321,gary:1001", "thttpd_files:ryan:web,music_stuff:gary:music");
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  const Model expected{
      .users = {User{"ryan", 54321, 54321}, User{"gary", 1001, 1001}},
      .rules = {make_rule("thttpd_files", "ryan", "web"),
                make_rule("music_stuff", "gary", "music")},
  };
  CHECK(parsed.model == expected);
  CHECK(parsed.model.rules[0].access == Access::read_write);
  CHECK(parsed.model.rules[0].atomic);
  CHECK_FALSE(parsed.model.rules[0].symlinks);
  CHECK_FALSE(parsed.model.rules[0].owner);
}

TEST_CASE("a parse keeping the users alone judges exactly as a whole one", "[mapping][parse]") {
  const Input good{split_list("ryan:54321,gary:1001", "SFTP_USERS"),
                            split_list("thttpd_files:ryan:web,music_stuff:gary:music:ro", "SFTP_VOLUMES")};
  const Parsed whole = parse(good);
  const Parsed users = parse(good, Keep::users);
  REQUIRE(whole.ok());
  REQUIRE(users.ok());
  CHECK(whole.model.rules.size() == 2);
  CHECK(users.model.rules.empty());
  CHECK(users.model.users == whole.model.users);

  // Every kind of rule problem, and a user problem, are found either way.
  const Input bad{
      split_list("ryan:54321,gary:54321,alice:1002", "SFTP_USERS"),
      split_list("vol:ryna:web,vol:ryan:web,other:ryan:web,q:alice:a:quota=1G,q:alice:b:quota=2G,bad name:ryan:x",
                 "SFTP_VOLUMES")};
  const Parsed bad_whole = parse(bad);
  const Parsed bad_users = parse(bad, Keep::users);
  INFO(all_lines(bad_whole));
  CHECK(bad_whole.problems.size() >= 5);
  CHECK(all_lines(bad_users) == all_lines(bad_whole));
  CHECK(bad_users.model.users == bad_whole.model.users);
  CHECK(bad_users.model.rules.empty());
}

TEST_CASE("a user's gid defaults to the uid and may be given", "[mapping][parse]") {
  const Parsed parsed = parse_env("ryan:54321,gary:1001:100,_svc-1:4294967294", "");
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  CHECK(parsed.model.users == std::vector<User>{User{"ryan", 54321, 54321},
                                                User{"gary", 1001, 100},
                                                User{"_svc-1", 4294967294u, 4294967294u}});
}

TEST_CASE("a rule may map a subdir of a volume", "[mapping][parse]") {
  CHECK(parse_one_rule("site/public:ryan:web").subdir == "public");
  CHECK(parse_one_rule("site/a/b.c/d-e:ryan:web").subdir == "a/b.c/d-e");
  CHECK(parse_one_rule("site/public/:ryan:web").subdir == "public");
  CHECK(parse_one_rule("site/:ryan:web").subdir.empty());
  CHECK(parse_one_rule("site/My Files:ryan:web").subdir == "My Files");
  CHECK(parse_one_rule("site/a/b:ryan:web").volume == "site");
}

TEST_CASE("rule options", "[mapping][parse]") {
  SECTION("rw and atomic are the defaults, and may be said") {
    const Rule rule = parse_one_rule("v:ryan:web:rw:atomic");
    CHECK(rule.access == Access::read_write);
    CHECK(rule.atomic);
    CHECK(rule == parse_one_rule("v:ryan:web"));
  }
  SECTION("ro") { CHECK(parse_one_rule("v:ryan:web:ro").access == Access::read_only); }
  SECTION("symlinks") { CHECK(parse_one_rule("v:ryan:web:symlinks").symlinks); }
  SECTION("noatomic") { CHECK_FALSE(parse_one_rule("v:ryan:web:noatomic").atomic); }
  SECTION("owner=UID:GID keeps its own ':' apart from the option separator") {
    CHECK(parse_one_rule("v:ryan:web:owner=33:34").owner == Owner{33, 34});
    const Rule rule = parse_one_rule("v:ryan:web:ro:owner=33:34:symlinks");
    CHECK(rule.owner == Owner{33, 34});
    CHECK(rule.access == Access::read_only);
    CHECK(rule.symlinks);
  }
  SECTION("order does not matter") {
    CHECK(parse_one_rule("v:ryan:web:noatomic:symlinks:owner=1:2:ro") ==
          parse_one_rule("v:ryan:web:ro:owner=1:2:symlinks:noatomic"));
  }
  SECTION("repeating an option that cannot conflict is harmless") {
    CHECK(parse_one_rule("v:ryan:web:ro:ro").access == Access::read_only);
  }
}

TEST_CASE("Docker volume names are accepted as Docker accepts them", "[mapping][parse]") {
  CHECK(parse_one_rule("a:ryan:web").volume == "a");
  CHECK(parse_one_rule("0My_vol.1-x:ryan:web").volume == "0My_vol.1-x");
  CHECK(parse_one_rule("compose_project_data:ryan:web").volume == "compose_project_data");
}

TEST_CASE("mount names may be any plain folder name", "[mapping][parse]") {
  CHECK(parse_one_rule("v:ryan:.hidden").mount == ".hidden");
  CHECK(parse_one_rule("v:ryan:Web Site").mount == "Web Site");
  CHECK(parse_one_rule("v:ryan:Müsik").mount == "Müsik");
  CHECK(parse_one_rule("v:ryan:" + std::string(255, 'm')).mount.size() == 255);
}

TEST_CASE("a problem is one line: source, text, message", "[mapping][problem]") {
  const Problem problem{"SFTP_USERS item 2", "root:0", "user name 'root' is reserved"};
  CHECK(problem.line() == "SFTP_USERS item 2: 'root:0': user name 'root' is reserved");
}

TEST_CASE("a problem without text names the source and the message", "[mapping][problem]") {
  const Problem problem{"ryan:web", "", "cannot open /v/web: No such file or directory"};
  CHECK(problem.line() == "ryan:web: cannot open /v/web: No such file or directory");
}

TEST_CASE("a problem quotes at most 200 bytes of its text", "[mapping][problem]") {
  const std::string long_item = "web:ryan:" + std::string(10000, 'x');
  const Problem problem{"gateway.conf line 2", long_item, "too long"};
  CHECK(problem.line() == "gateway.conf line 2: '" + long_item.substr(0, 200) + "...': too long");
  CHECK(clip("short") == "short");
  CHECK(clip(std::string(200, 'a')) == std::string(200, 'a'));
  // A character is cut whole: 'ü' is two bytes and would straddle byte 200.
  CHECK(clip(std::string(199, 'a') + "\xc3\xbc") == std::string(199, 'a') + "...");
  // At most 200 bytes of input, escaped afterwards (the escapes may be longer).
  CHECK(excerpt(std::string(300, '\x01')) == [] {
    std::string escaped;
    for (int i = 0; i < 200; ++i) escaped += "\\x01";
    return escaped + "...";
  }());
  // Through a real parse: a 10 KB rule is one problem line of bounded length.
  const Parsed parsed = parse_env("ryan:54321", "v/" + std::string(10000, '\x1b') + ":ryan:web");
  REQUIRE(parsed.problems.size() == 1);
  const std::string line = parsed.problems.front().line();
  INFO(line);
  CHECK(line.find('\x1b') == std::string::npos);
  CHECK(line.size() < (200 + 64) * 4 + 200);
}

TEST_CASE("a problem line escapes what could end or forge a line", "[mapping][problem]") {
  using namespace std::string_literals;
  const Problem problem{"gateway.conf line 3", "v:ryan:a\nb\0c"s, "bad \x1b[31mname"};
  CHECK(problem.line() == "gateway.conf line 3: 'v:ryan:a\\nb\\x00c': bad \\x1b[31mname");
  CHECK(printable("tab\there\r") == "tab\\there\\r");
  CHECK(printable("back\\slash") == "back\\\\slash");
  CHECK(printable("\x7f") == "\\x7f");
  SECTION("well-formed UTF-8 stays readable") {
    CHECK(printable("Müsik 音楽 🎵") == "Müsik 音楽 🎵");
  }
  SECTION("broken UTF-8, line separators and bidi controls are escaped bytewise") {
    CHECK(printable("a\xff" "b") == "a\\xffb");
    CHECK(printable("\xc3") == "\\xc3");              // truncated sequence
    CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");     // overlong '/'
    CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
    CHECK(printable("a\xe2\x80\xa8" "b") == "a\\xe2\\x80\\xa8b");  // U+2028
    CHECK(printable("\xe2\x80\xae") == "\\xe2\\x80\\xae");  // U+202E right-to-left override
    CHECK(printable("\xc2\x85") == "\\xc2\\x85");           // U+0085 next line
  }
}
