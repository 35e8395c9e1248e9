// Every kind of configuration mistake: its message names the source and the
// offending text, says what would be valid, and never hides another mistake.
#include "mapping/names.hpp"
#include "mapping_support.hpp"
#include "support/catch.hpp"

using namespace gw::mapping;
using gw::test::all_lines;
using gw::test::has_exact_line;
using gw::test::has_line;
using gw::test::parse_env;

namespace {

// The problems of one bad user item, given alone.
Parsed users_only(std::string_view users) { return parse_env(users, ""); }

// The problems of one bad rule item, with ryan and gary defined.
Parsed rule_only(std::string_view rule) { return parse_env("ryan:54321,gary:1001", rule); }

// An item parse() sees as it is, without split_list in between (a config
// file line, or bytes split_list would have cut or trimmed).
Parsed raw_rule(std::string text) {
  return parse(Input{{Item{"ryan:54321", "SFTP_USERS item 1"}},
                     {Item{std::move(text), "gateway.conf line 7"}}});
}

}  // namespace

TEST_CASE("reserved user names are refused", "[mapping][validate]") {
  const Parsed parsed = users_only("root:1000");
  INFO(all_lines(parsed));
  CHECK(parsed.problems.size() == 1);
  CHECK(has_exact_line(parsed,
                       "SFTP_USERS item 1: 'root:1000': user name 'root' is reserved for a "
                       "system account; choose another name"));
  for (const char* name : {"sshd", "nobody", "daemon", "www-data", "_apt", "systemd-network"}) {
    INFO(name);
    CHECK(has_line(users_only(std::string(name) + ":1000"), {"is reserved"}));
  }
  CHECK(parse_env("ssh:1000,rooted:1001,systemd:1002", "").ok());
}

TEST_CASE("user names must be valid account names", "[mapping][validate]") {
  CHECK(has_exact_line(users_only("Ryan:1000"),
                       "SFTP_USERS item 1: 'Ryan:1000': user name 'Ryan' is not valid: use 1 "
                       "to 32 of a-z, 0-9, '_' and '-', starting with a-z or '_'; did you mean "
                       "'ryan'?"));
  const std::vector<std::string> bad_names{"1ryan:1000", "ry an:1000", "ry.an:1000",
                                           "-ryan:1000", std::string(33, 'a') + ":1000"};
  for (const std::string& item : bad_names) {
    INFO(item);
    CHECK(has_line(users_only(item), {"SFTP_USERS item 1", item, "is not valid"}));
  }
  CHECK(parse_env(std::string(32, 'a') + ":1000", "").ok());
  CHECK(has_exact_line(users_only(":1000"),
                       "SFTP_USERS item 1: ':1000': user name is empty; expected name:uid[:gid][:options]"));
}

TEST_CASE("uids and gids: decimal, 1 to 4294967294, not root or nobody", "[mapping][validate]") {
  CHECK(has_exact_line(users_only("ryan:0"),
                       "SFTP_USERS item 1: 'ryan:0': uid 0 is root; use a decimal uid from 1 "
                       "to 4294967294, other than 65534"));
  CHECK(has_line(users_only("ryan:000"), {"uid 0 is root"}));
  CHECK(has_line(users_only("ryan:65534"), {"'ryan:65534'", "uid 65534 is nobody"}));
  CHECK(has_line(users_only("ryan:4294967295"), {"uid 4294967295 is out of range"}));
  CHECK(has_line(users_only("ryan:99999999999999999999"), {"is out of range"}));
  for (const char* item : {"ryan:abc", "ryan:-1", "ryan:+5", "ryan:0x10", "ryan: 5", "ryan:1e3"}) {
    INFO(item);
    CHECK(has_line(users_only(item), {item, "is not a decimal number"}));
  }
  CHECK(has_line(users_only("ryan:"), {"'ryan:'", "uid is empty"}));
  CHECK(has_exact_line(users_only("ryan:1000:0"),
                       "SFTP_USERS item 1: 'ryan:1000:0': gid 0 is root's group; use a decimal "
                       "gid from 1 to 4294967294, other than 65534"));
  CHECK(has_line(users_only("ryan:1000:65534"), {"gid 65534 is nogroup"}));
  CHECK(has_line(users_only("ryan:1000:x"), {"gid 'x' is not a decimal number"}));
}

TEST_CASE("a user item has a name, a uid, maybe a gid, then options", "[mapping][validate]") {
  CHECK(has_exact_line(users_only("ryan"),
                       "SFTP_USERS item 1: 'ryan': expected name:uid[:gid][:options], found 1 field"));
  CHECK(has_exact_line(users_only("ryan:1:2:3"), "SFTP_USERS item 1: 'ryan:1:2:3': unknown option '3'; valid "
                                                 "options: quota=SIZE, files=N"));
}

TEST_CASE("duplicate user names and uids are refused, naming both sources",
          "[mapping][validate]") {
  const Parsed name = users_only("gary:1001,ryan:54321,gary:1002");
  INFO(all_lines(name));
  CHECK(has_exact_line(name, "SFTP_USERS item 3: 'gary:1002': duplicate user name 'gary' (also "
                             "in SFTP_USERS item 1)"));
  CHECK(name.problems.size() == 1);

  const Parsed uid = users_only("gary:1001,ryan:1001");
  INFO(all_lines(uid));
  CHECK(has_exact_line(uid, "SFTP_USERS item 2: 'ryan:1001': duplicate uid 1001 (also used by "
                            "gary, SFTP_USERS item 1)"));
  CHECK(uid.model.users == std::vector<User>{User{"gary", 1001, 1001}});

  SECTION("a shared gid is fine") { CHECK(parse_env("gary:1001:100,ryan:1002:100", "").ok()); }
}

TEST_CASE("a rule item has at least three fields", "[mapping][validate]") {
  CHECK(has_exact_line(rule_only("thttpd_files:ryan"),
                       "SFTP_VOLUMES item 1: 'thttpd_files:ryan': expected "
                       "volume[/subdir]:user:mount[:options], found 2 fields"));
  CHECK(has_line(rule_only("thttpd_files"), {"volume[/subdir]:user:mount[:options]", "1 field"}));
}

TEST_CASE("volume names follow Docker's syntax", "[mapping][validate]") {
  CHECK(has_exact_line(rule_only("_files:ryan:web"),
                       "SFTP_VOLUMES item 1: '_files:ryan:web': volume name '_files' is not "
                       "valid: Docker volume names match [a-zA-Z0-9][a-zA-Z0-9_.-]*"));
  for (const char* item : {".files:ryan:web", "-files:ryan:web", "fi$les:ryan:web",
                           "fi les:ryan:web"}) {
    INFO(item);
    CHECK(has_line(rule_only(item), {item, "is not valid: Docker volume names"}));
  }
  CHECK(has_line(rule_only(":ryan:web"), {"volume name is empty"}));
  CHECK(has_line(rule_only("/srv/files:ryan:web"),
                 {"'/srv/files' is a path; a rule maps a Docker volume by name"}));
}

TEST_CASE("a subdir stays inside its volume", "[mapping][validate]") {
  CHECK(has_exact_line(rule_only("files/../etc:ryan:web"),
                       "SFTP_VOLUMES item 1: 'files/../etc:ryan:web': subdir '../etc' must not "
                       "contain '..'; a subdir names a folder inside the volume, e.g. "
                       "volume/site/public"));
  CHECK(has_line(rule_only("files/a/..:ryan:web"), {"must not contain '..'"}));
  CHECK(has_line(rule_only("files/a/./b:ryan:web"), {"must not contain '.'"}));
  CHECK(has_line(rule_only("files/a//b:ryan:web"), {"subdir 'a//b' has an empty component"}));
  CHECK(has_line(rule_only("files//a:ryan:web"), {"has an empty component"}));
  CHECK(has_line(raw_rule("files/a,b:ryan:web"), {"gateway.conf line 7", "must not contain ','"}));
}

TEST_CASE("a subdir with several bad parts is one problem", "[mapping][validate]") {
  // One field, one mistake: "a/../../b" must not read as two problems.
  for (const char* rule : {"files/../../etc:ryan:web", "files/a/../b/..:ryan:web", "files/./..:ryan:web",
                           "files/a//b//c:ryan:web", "files/../a//b:ryan:web"}) {
    const Parsed parsed = rule_only(rule);
    INFO(all_lines(parsed));
    CHECK(parsed.problems.size() == 1);
  }
  CHECK(has_exact_line(rule_only("files/../../etc:ryan:web"),
                       "SFTP_VOLUMES item 1: 'files/../../etc:ryan:web': subdir '../../etc' must not "
                       "contain '..'; a subdir names a folder inside the volume, e.g. volume/site/public"));
  // The subdir's problem does not hide the item's other mistakes.
  CHECK(rule_only("files/../..:nobody:web:rox").problems.size() == 3);
}

TEST_CASE("mount names are single plain folder names", "[mapping][validate]") {
  CHECK(has_exact_line(rule_only("files:ryan:"),
                       "SFTP_VOLUMES item 1: 'files:ryan:': mount name must not be empty"));
  CHECK(has_line(rule_only("files:ryan:."), {"mount name '.' must not be '.' or '..'"}));
  CHECK(has_line(rule_only("files:ryan:.."), {"mount name '..' must not be '.' or '..'"}));
  CHECK(has_line(rule_only("files:ryan:a/b"), {"mount name 'a/b' must not contain '/'"}));
  CHECK(has_line(rule_only("files:ryan:" + std::string(256, 'm')),
                 {"must be at most 255 bytes long (it has 256)"}));
  using namespace std::string_literals;
  const Parsed nul = raw_rule("files:ryan:a\0b"s);
  INFO(all_lines(nul));
  CHECK(has_exact_line(nul, "gateway.conf line 7: 'files:ryan:a\\x00b': mount name 'a\\x00b' "
                            "must not contain a NUL byte"));
  CHECK(has_line(raw_rule("files:ryan:a\nb"), {"'a\\nb' must not contain control characters"}));
  CHECK(has_line(raw_rule("files:ryan:a,b"), {"must not contain ','"}));
  CHECK(has_line(raw_rule("files:ryan:web "), {"must not start or end with a blank"}));
}

TEST_CASE("unknown and conflicting options", "[mapping][validate]") {
  CHECK(has_exact_line(rule_only("files:ryan:web:readonly"),
                       "SFTP_VOLUMES item 1: 'files:ryan:web:readonly': unknown option "
                       "'readonly'; valid options: rw, ro, owner=UID:GID, symlinks, atomic, "
                       "noatomic, quota=SIZE, files=N, umask=OCTAL, events=KINDS"));
  CHECK(has_line(rule_only("files:ryan:web:r-o"),
                 {"unknown option 'r-o' (did you mean 'ro'?); valid options"}));
  CHECK(has_line(rule_only("files:ryan:web:symlink"), {"(did you mean 'symlinks'?)"}));
  const Parsed misspelt_owner = rule_only("files:ryan:web:ownr=1:2");
  CHECK(misspelt_owner.problems.size() == 1);  // "2" is ownr's value, not another option
  CHECK(has_line(misspelt_owner, {"'ownr=1:2' (did you mean 'owner=UID:GID'?)"}));
  CHECK(has_line(rule_only("files:ryan:web:"), {"empty option", "valid options: rw, ro"}));
  CHECK(has_line(rule_only("files:ryan:web:ro:rw"), {"options 'ro' and 'rw' conflict"}));
  CHECK(has_line(rule_only("files:ryan:web:noatomic:atomic"),
                 {"options 'atomic' and 'noatomic' conflict"}));
  CHECK(has_line(rule_only("files:ryan:web:owner=1:1:owner=1:1"),
                 {"owner= is given more than once"}));
}

TEST_CASE("owner= takes two valid ids", "[mapping][validate]") {
  CHECK(has_exact_line(rule_only("files:ryan:web:owner=0:0"),
                       "SFTP_VOLUMES item 1: 'files:ryan:web:owner=0:0': owner uid 0 is root; "
                       "use a decimal uid from 1 to 4294967294, other than 65534"));
  CHECK(has_line(rule_only("files:ryan:web:owner=0:0"), {"owner gid 0 is root's group"}));
  CHECK(has_line(rule_only("files:ryan:web:owner=33:0"), {"owner gid 0 is root's group"}));
  CHECK(has_line(rule_only("files:ryan:web:owner=33"), {"needs both ids: owner=UID:GID"}));
  CHECK(has_line(rule_only("files:ryan:web:owner=33:ro"), {"needs both ids"}));
  CHECK(has_line(rule_only("files:ryan:web:owner=33:x"), {"owner gid 'x' is not a decimal"}));
  CHECK(has_line(rule_only("files:ryan:web:owner=:33"), {"owner uid is empty"}));
  CHECK(has_line(rule_only("files:ryan:web:owner=65534:33"), {"owner uid 65534 is nobody"}));
}

TEST_CASE("a rule must name a known user; a close name is suggested", "[mapping][validate]") {
  CHECK(has_exact_line(rule_only("music_stuff:rayn:music"),
                       "SFTP_VOLUMES item 1: 'music_stuff:rayn:music': unknown user 'rayn'; "
                       "did you mean 'ryan'?"));
  CHECK(has_line(rule_only("music_stuff:garry:music"), {"did you mean 'gary'?"}));
  CHECK(has_line(rule_only("music_stuff:alice:music"),
                 {"unknown user 'alice'; known users: ryan, gary"}));
  CHECK(has_line(parse_env("", "music_stuff:gary:music"),
                 {"unknown user 'gary'; no valid users are defined"}));
  CHECK(has_line(parse_env("a1:1,a2:2,a3:3,a4:4,a5:5,a6:6", "v:zed:m"),
                 {"known users: a1, a2, a3, a4, a5, ..."}));
  CHECK(has_line(rule_only("files::web"), {"user is empty"}));
  SECTION("suggestions and lists name only valid users") {
    const Parsed parsed = parse_env("Alice:1,bob:2", "v:alce:m,v:zed:m");
    INFO(all_lines(parsed));
    CHECK(has_line(parsed, {"unknown user 'alce'; known users: bob"}));
    CHECK(has_line(parsed, {"unknown user 'zed'; known users: bob"}));
  }
}

TEST_CASE("one user may not have two mounts of the same name", "[mapping][validate]") {
  const Parsed parsed = rule_only("a:ryan:web,b:gary:web,c:ryan:web");
  INFO(all_lines(parsed));
  CHECK(parsed.problems.size() == 1);
  CHECK(has_exact_line(parsed, "SFTP_VOLUMES item 3: 'c:ryan:web': duplicate mount name 'web' "
                               "for user ryan (also in SFTP_VOLUMES item 1)"));
  CHECK(parsed.model.rules.size() == 2);
}

TEST_CASE("every problem is reported in one run", "[mapping][validate]") {
  const Parsed parsed = parse_env(
      "root:0,ryan:54321,gary:1001:0,bob:54321",
      "thttpd_files:rayn:web,music_stuff:gary:music:rx,x/..:ryan:a,ok:ryan:fine,ok2:ryan:fine");
  INFO(all_lines(parsed));
  CHECK_FALSE(parsed.ok());
  CHECK(has_line(parsed, {"SFTP_USERS item 1", "user name 'root' is reserved"}));
  CHECK(has_line(parsed, {"SFTP_USERS item 1", "uid 0 is root"}));
  CHECK(has_line(parsed, {"SFTP_USERS item 3", "gid 0 is root's group"}));
  CHECK(has_line(parsed, {"SFTP_USERS item 4", "duplicate uid 54321 (also used by ryan"}));
  CHECK(has_line(parsed, {"SFTP_VOLUMES item 1", "unknown user 'rayn'; did you mean 'ryan'?"}));
  CHECK(has_line(parsed, {"SFTP_VOLUMES item 2", "unknown option 'rx'"}));
  CHECK(has_line(parsed, {"SFTP_VOLUMES item 3", "must not contain '..'"}));
  CHECK(has_line(parsed, {"SFTP_VOLUMES item 5", "duplicate mount name 'fine'"}));
  CHECK(parsed.problems.size() == 8);

  SECTION("only the valid items reach the model") {
    CHECK(parsed.model.users == std::vector<User>{User{"ryan", 54321, 54321}});
    REQUIRE(parsed.model.rules.size() == 1);
    CHECK(parsed.model.rules[0].volume == "ok");
  }
  SECTION("problems come in the order of the items") {
    CHECK(parsed.problems.front().source == "SFTP_USERS item 1");
    CHECK(parsed.problems.back().source == "SFTP_VOLUMES item 5");
  }
}

TEST_CASE("a user whose own item was bad is not also called unknown", "[mapping][validate]") {
  const Parsed parsed = parse_env("Ryan:54321,root:0,gary", "v:Ryan:web,v:root:x,v:gary:m");
  INFO(all_lines(parsed));
  CHECK_FALSE(has_line(parsed, {"unknown user"}));
  CHECK(parsed.problems.size() == 4);  // Ryan invalid; root reserved, uid 0; gary's fields
  CHECK(parsed.model.rules.empty());   // their rules cannot be planned
}

TEST_CASE("name rules", "[mapping][names]") {
  CHECK_FALSE(single_name_problem("web"));
  CHECK(single_name_problem("") == "must not be empty");
  CHECK(single_name_problem("..") == "must not be '.' or '..'");
  CHECK(single_name_problem("a/b") == "must not contain '/'");
  CHECK(single_name_problem(std::string_view("a\0b", 3)) == "must not contain a NUL byte");
  CHECK_FALSE(single_name_problem(std::string(255, 'x')));
  CHECK(single_name_problem(std::string(256, 'x')));
  CHECK(is_volume_name("a"));
  CHECK_FALSE(is_volume_name(""));
  CHECK_FALSE(is_volume_name("a/b"));
  CHECK(is_user_name("_a-1"));
  CHECK_FALSE(is_user_name("a$"));
  CHECK(is_reserved_user_name("systemd-anything"));
  CHECK_FALSE(is_reserved_user_name("ryan"));
}

TEST_CASE("closest suggests only plausible typos", "[mapping][names]") {
  const std::vector<std::string> users{"ryan", "gary", "bo"};
  CHECK(closest("rayn", users) == "ryan");  // distance 2
  CHECK(closest("gray", users) == "gary");
  CHECK(closest("ryan", users) == "ryan");
  CHECK_FALSE(closest("alice", users));     // too far
  CHECK_FALSE(closest("ab", users));        // distance 2 is not less than the length
  CHECK_FALSE(closest("b", users));         // distance 1 is not less than the length
  CHECK(closest("bob", users) == "bo");
}
