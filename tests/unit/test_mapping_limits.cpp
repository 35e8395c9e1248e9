// Quotas and umasks as admins write them: sizes, counts and umasks read and
// refused one way, the options on rules and users, one limit per folder, and
// the defaults the plan fills in.
#include "mapping/plan.hpp"
#include "mapping/values.hpp"
#include "mapping_support.hpp"
#include "support/catch.hpp"

using namespace gw::mapping;
using gw::test::all_lines;
using gw::test::has_exact_line;
using gw::test::has_line;
using gw::test::make_rule;
using gw::test::parse_env;

namespace {

constexpr std::uint64_t KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024, TiB = GiB * 1024;

std::uint64_t size_of(std::string_view text) {
  const auto read = read_size(text, "quota");
  INFO(text << ": " << read.problem);
  REQUIRE(read.value);
  CHECK(read.problem.empty());
  return *read.value;
}

std::string size_problem(std::string_view text) {
  const auto read = read_size(text, "quota");
  CHECK_FALSE(read.value);
  return read.problem;
}

Parsed rule_only(std::string_view rule) { return parse_env("ryan:54321,gary:1001", rule); }

Rule parse_one_rule(std::string_view rule) {
  const Parsed parsed = rule_only(rule);
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  REQUIRE(parsed.model.rules.size() == 1);
  return parsed.model.rules.front();
}

User parse_one_user(std::string_view user) {
  const Parsed parsed = parse_env(user, "");
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  REQUIRE(parsed.model.users.size() == 1);
  return parsed.model.users.front();
}

Limit limit(std::optional<std::uint64_t> bytes, std::optional<std::uint64_t> files) {
  Limit l;
  l.bytes = bytes;
  l.files = files;
  return l;
}

}  // namespace

TEST_CASE("sizes: bytes with a 1024-based K, M, G or T", "[mapping][values]") {
  CHECK(size_of("1") == 1);
  CHECK(size_of("1000") == 1000);
  CHECK(size_of("1K") == KiB);
  CHECK(size_of("1k") == KiB);
  CHECK(size_of("3M") == 3 * MiB);
  CHECK(size_of("5G") == 5 * GiB);
  CHECK(size_of("5g") == 5 * GiB);
  CHECK(size_of("5GiB") == 5 * GiB);
  CHECK(size_of("2T") == 2 * TiB);
  CHECK(size_of("0010M") == 10 * MiB);
  CHECK(size_of("9223372036854775807") == kMaxAmount);
  CHECK(size_of("8388607T") == 8388607 * TiB);
}

TEST_CASE("sizes that are not: each refused with what would be valid", "[mapping][values]") {
  const std::string hint = "give bytes with an optional suffix K, M, G or T (1024-based), e.g. 5G";
  CHECK(size_problem("") == "quota is empty; " + hint);
  CHECK(size_problem("G") == "quota 'G' is not a size; " + hint);
  CHECK(size_problem("-1") == "quota '-1' is not a size; " + hint);
  CHECK(size_problem("5X") == "quota '5X' has an unknown suffix 'X'; " + hint);
  CHECK(size_problem("5GB") == "quota '5GB' has an unknown suffix 'GB'; " + hint);  // 1000 or 1024?
  CHECK(size_problem("5B") == "quota '5B' has an unknown suffix 'B'; " + hint);
  CHECK(size_problem("5 G") == "quota '5 G' has an unknown suffix ' G'; " + hint);
  CHECK(size_problem("1.5G") == "quota '1.5G' has an unknown suffix '.5G'; " + hint);
  CHECK(size_problem("0") == "quota 0 would refuse every write; leave it out for no limit");
  CHECK(size_problem("000G") == "quota 0 would refuse every write; leave it out for no limit");
  CHECK(size_problem("8388608T") == "quota '8388608T' is too large; at most 8388607T");
  CHECK(size_problem("9223372036854775808") == "quota '9223372036854775808' is too large; at most 8388607T");
  CHECK(size_problem("99999999999999999999999") == "quota '99999999999999999999999' is too large; at most 8388607T");
}

TEST_CASE("a size renders in the shortest form that reads back", "[mapping][values]") {
  CHECK(render_size(1) == "1");
  CHECK(render_size(1023) == "1023");
  CHECK(render_size(KiB) == "1K");
  CHECK(render_size(1536) == "1536");
  CHECK(render_size(1536 * KiB) == "1536K");
  CHECK(render_size(5 * GiB) == "5G");
  CHECK(render_size(1024 * TiB) == "1024T");
  for (const std::uint64_t bytes : {std::uint64_t{1}, 1023 * KiB, 3 * MiB + 1, 7 * TiB, kMaxAmount, 8388607 * TiB}) {
    INFO(bytes);
    CHECK(size_of(render_size(bytes)) == bytes);
  }
}

TEST_CASE("counts are decimal, 1 and up", "[mapping][values]") {
  CHECK(read_count("1", "files").value == 1u);
  CHECK(read_count("100000", "files").value == 100000u);
  CHECK(read_count("0", "files").problem == "files 0 would refuse every new file; leave it out for no limit");
  CHECK(read_count("10k", "files").problem ==
        "files '10k' is not a decimal number; give a decimal number from 1 to 9223372036854775807");
  CHECK(read_count("", "files").problem == "files is empty; give a decimal number from 1 to 9223372036854775807");
  CHECK(read_count("9223372036854775808", "files").problem ==
        "files '9223372036854775808' is too large; give a decimal number from 1 to 9223372036854775807");
}

TEST_CASE("umasks are 3 or 4 octal digits up to 0777", "[mapping][values]") {
  CHECK(read_umask("027", "umask").value == 027u);
  CHECK(read_umask("0027", "umask").value == 027u);
  CHECK(read_umask("000", "umask").value == 0u);
  CHECK(read_umask("0777", "umask").value == 0777u);
  for (const char* bad : {"", "27", "0888", "1777", "00027", "0o27", "abc", "-027"}) {
    INFO(bad);
    CHECK(read_umask(bad, "umask").problem ==
          "umask '" + std::string(bad) + "' is not a umask; give 3 or 4 octal digits from 000 to 0777, e.g. 0027");
  }
  CHECK(render_umask(027) == "0027");
  CHECK(render_umask(0) == "0000");
}

TEST_CASE("rule options quota=, files= and umask=", "[mapping][parse]") {
  const Rule rule = parse_one_rule("thttpd_files/site:ryan:web:quota=5G:files=100000:umask=0027");
  CHECK(rule.limit == limit(5 * GiB, 100000));
  CHECK(rule.umask == 027u);
  CHECK(parse_one_rule("v:ryan:web:files=7").limit == limit(std::nullopt, 7));
  CHECK_FALSE(parse_one_rule("v:ryan:web").limit.any());
  CHECK_FALSE(parse_one_rule("v:ryan:web").umask);
  SECTION("among the other options, in any order, owner=UID:GID keeping its ':'") {
    const Rule mixed = parse_one_rule("v:ryan:web:umask=077:owner=33:34:quota=1M:ro");
    CHECK(mixed.owner == Owner{33, 34});
    CHECK(mixed.limit == limit(MiB, std::nullopt));
    CHECK(mixed.umask == 077u);
    CHECK(mixed.access == Access::read_only);
    CHECK(parse_one_rule("v:ryan:web:owner=33:34:files=3").limit.files == 3u);
  }
}

TEST_CASE("bad quota=, files= and umask= name the item and say what is valid", "[mapping][validate]") {
  CHECK(has_exact_line(rule_only("v:ryan:web:quota=5X"),
                       "SFTP_VOLUMES item 1: 'v:ryan:web:quota=5X': quota '5X' has an unknown suffix 'X'; give "
                       "bytes with an optional suffix K, M, G or T (1024-based), e.g. 5G"));
  CHECK(has_exact_line(rule_only("v:ryan:web:files=0"),
                       "SFTP_VOLUMES item 1: 'v:ryan:web:files=0': files 0 would refuse every new file; leave it "
                       "out for no limit"));
  CHECK(has_exact_line(rule_only("v:ryan:web:umask=888"),
                       "SFTP_VOLUMES item 1: 'v:ryan:web:umask=888': umask '888' is not a umask; give 3 or 4 octal "
                       "digits from 000 to 0777, e.g. 0027"));
  CHECK(has_line(rule_only("v:ryan:web:quota=0"), {"quota 0 would refuse every write"}));
  CHECK(has_line(rule_only("v:ryan:web:quota=99999999T"), {"quota '99999999T' is too large"}));
  CHECK(has_line(rule_only("v:ryan:web:quota="), {"quota is empty"}));
  SECTION("a misspelt key gets the closest one suggested") {
    CHECK(has_line(rule_only("v:ryan:web:qouta=5G"), {"unknown option 'qouta=5G' (did you mean 'quota=SIZE'?)"}));
    CHECK(has_line(rule_only("v:ryan:web:file=9"), {"(did you mean 'files=N'?)"}));
    CHECK(has_line(rule_only("v:ryan:web:umsk=027"), {"(did you mean 'umask=OCTAL'?)"}));
  }
  SECTION("each option once") {
    const Parsed twice = rule_only("v:ryan:web:quota=1G:quota=1G:files=1:files=2:umask=022:umask=022");
    INFO(all_lines(twice));
    CHECK(twice.problems.size() == 3);
    CHECK(has_line(twice, {"option quota= is given more than once; give one quota=SIZE"}));
    CHECK(has_line(twice, {"option files= is given more than once; give one files=N"}));
    CHECK(has_line(twice, {"option umask= is given more than once; give one umask=OCTAL"}));
  }
  SECTION("their values never take the next field, unlike owner=") {
    const Parsed stray = rule_only("v:ryan:web:quota=5G:wbe");
    INFO(all_lines(stray));
    CHECK(stray.problems.size() == 1);
    CHECK(has_line(stray, {"unknown option 'wbe'"}));
    const Parsed split = rule_only("v:ryan:web:umask=0:027");
    INFO(all_lines(split));
    CHECK(has_line(split, {"umask '0' is not a umask"}));
    CHECK(has_line(split, {"unknown option '027'"}));
    // A misspelt key still takes its value's ':' part: one problem, not two.
    const Parsed misspelt = rule_only("v:ryan:web:qouta=5:3");
    CHECK(misspelt.problems.size() == 1);
    CHECK(has_line(misspelt, {"unknown option 'qouta=5:3' (did you mean 'quota=SIZE'?)"}));
  }
}

TEST_CASE("user options limit the home", "[mapping][parse]") {
  CHECK(parse_one_user("ryan:1000:quota=1G") == User{"ryan", 1000, 1000, limit(GiB, std::nullopt)});
  CHECK(parse_one_user("ryan:1000:1000:quota=1G:files=5000") == User{"ryan", 1000, 1000, limit(GiB, 5000)});
  CHECK(parse_one_user("ryan:1000:100:files=5") == User{"ryan", 1000, 100, limit(std::nullopt, 5)});
  CHECK(parse_one_user("ryan:1000:files=5:quota=2M") == User{"ryan", 1000, 1000, limit(2 * MiB, 5)});
  CHECK_FALSE(parse_one_user("ryan:1000:100").limit.any());
}

TEST_CASE("bad user options name the item", "[mapping][validate]") {
  CHECK(has_exact_line(parse_env("ryan:1000:qouta=1G", ""),
                       "SFTP_USERS item 1: 'ryan:1000:qouta=1G': unknown option 'qouta=1G' (did you mean "
                       "'quota=SIZE'?); valid options: quota=SIZE, files=N"));
  CHECK(has_exact_line(parse_env("ryan:1000:1000:quota=1G:quota=2G", ""),
                       "SFTP_USERS item 1: 'ryan:1000:1000:quota=1G:quota=2G': option quota= is given more than "
                       "once; give one quota=SIZE"));
  CHECK(has_line(parse_env("ryan:1000:files=0", ""), {"SFTP_USERS item 1", "files 0 would refuse every new file"}));
  CHECK(has_line(parse_env("ryan:1000:quota=1GB", ""), {"SFTP_USERS item 1", "unknown suffix 'GB'"}));
  CHECK(has_line(parse_env("ryan:1000:1000:ro", ""), {"unknown option 'ro'"}));
  CHECK(has_line(parse_env("ryan:1000:umask=027", ""), {"unknown option 'umask=027'", "valid options: quota=SIZE"}));
  CHECK(has_line(parse_env("ryan:1000:1000:", ""), {"empty option"}));
  // A bad user option leaves the user out, and the rules naming it are not
  // called unknown.
  const Parsed parsed = parse_env("ryan:1000:quota=0", "v:ryan:web");
  CHECK(parsed.problems.size() == 1);
  CHECK(parsed.model.users.empty());
}

TEST_CASE("one folder has one limit", "[mapping][validate]") {
  SECTION("two rules limiting one folder differently: one problem naming both") {
    const Parsed parsed = rule_only("v/site:ryan:web:quota=5G,v/site/:gary:site:quota=1G:files=10");
    INFO(all_lines(parsed));
    CHECK(parsed.problems.size() == 1);
    CHECK(has_exact_line(parsed,
                         "SFTP_VOLUMES item 2: 'v/site/:gary:site:quota=1G:files=10': folder v/site is limited to "
                         "quota=1G:files=10 here but to quota=5G in SFTP_VOLUMES item 1; one folder has one limit: "
                         "give the same quota= and files= in both, or leave them out of one"));
    CHECK(parsed.model.rules.size() == 1);
  }
  SECTION("a bytes limit and a files limit are different limits") {
    CHECK(has_line(rule_only("v:ryan:a:quota=5G,v:gary:b:files=10"), {"folder v is limited to files=10 here"}));
  }
  SECTION("the same limit twice, or a rule saying nothing, is fine") {
    CHECK(rule_only("v/s:ryan:a:quota=5G:files=9,v/s:gary:b:files=9:quota=5120M").ok());
    CHECK(rule_only("v/s:ryan:a:quota=5G,v/s:gary:b,v/s:ryan:c:ro").ok());
  }
  SECTION("nested and neighbouring folders have limits of their own") {
    CHECK(rule_only("v:ryan:a:quota=5G,v/s:gary:b:quota=1G,w:ryan:c:quota=2G,v/t:gary:t:quota=3G").ok());
  }
}

TEST_CASE("the plan resolves limits and umasks", "[mapping][plan]") {
  const Parsed parsed = parse_env("ryan:54321:files=500,gary:1001:quota=2G,bob:1002",
                                  "v/s:ryan:a:quota=5G:umask=0077,v/s:gary:b,w:gary:c");
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  SECTION("without defaults: the configuration's limits, umask 022") {
    const Plan plan = make_plan(parsed.model, Paths{"/d", "/v"});
    CHECK(plan.find("ryan")->home_limit == limit(std::nullopt, 500));
    CHECK(plan.find("bob")->home_limit == Limit{});
    CHECK(plan.find("bob")->home_umask == 022u);
    CHECK(plan.find("ryan")->mounts[0].limit == limit(5 * GiB, std::nullopt));
    CHECK(plan.find("ryan")->mounts[0].umask == 077u);
    // The folder's limit reaches gary's mapping of it, whose rule says nothing.
    CHECK(plan.find("gary")->mounts[0].limit == limit(5 * GiB, std::nullopt));
    CHECK(plan.find("gary")->mounts[0].umask == 022u);
    CHECK_FALSE(plan.find("gary")->mounts[1].limit.any());
  }
  SECTION("defaults fill what each user and rule leaves out") {
    Defaults defaults;
    defaults.home_limit = limit(GiB, 1000);
    defaults.umask = 027;
    const Plan plan = make_plan(parsed.model, Paths{"/d", "/v"}, defaults);
    CHECK(plan.find("ryan")->home_limit == limit(GiB, 500));  // its own files=, the default quota
    CHECK(plan.find("gary")->home_limit == limit(2 * GiB, 1000));
    CHECK(plan.find("bob")->home_limit == limit(GiB, 1000));
    CHECK(plan.find("bob")->home_umask == 027u);
    CHECK(plan.find("ryan")->mounts[0].umask == 077u);  // the rule's own
    CHECK(plan.find("gary")->mounts[0].umask == 027u);
    CHECK_FALSE(plan.find("gary")->mounts[1].limit.any());  // no default limit on volumes
    // A plan differs when only the defaults do: a reload applies them.
    CHECK_FALSE(plan == make_plan(parsed.model, Paths{"/d", "/v"}));
  }
}

TEST_CASE("folder keys name a limited folder", "[mapping][plan]") {
  CHECK(folder_key("thttpd_files", "") == "thttpd_files");
  CHECK(folder_key("thttpd_files", "site/public") == "thttpd_files/site/public");
  CHECK(home_key("ryan") == "~ryan");
}
