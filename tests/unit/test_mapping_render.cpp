// Render is the inverse of parse: what `gateway check` prints can be pasted
// back into SFTP_USERS and SFTP_VOLUMES.
#include "mapping_support.hpp"
#include "support/catch.hpp"

using namespace gw::mapping;
using gw::test::all_lines;
using gw::test::make_rule;
using gw::test::parse_env;

namespace {

// Every option away from its default somewhere, subdirs, gid != uid, and
// names at the edges of what is allowed.
Model rich_model() {
  Model model;
  model.users = {User{"ryan", 54321, 54321}, User{"gary", 1001, 100}, User{"_svc-2", 7, 8},
                 User{"quo", 9, 9}, User{"quo2", 10, 11}};
  model.users[3].limit.bytes = 5ull << 30;
  model.users[4].limit.bytes = 1536;
  model.users[4].limit.files = 5000;
  model.rules.push_back(make_rule("thttpd_files", "ryan", "web"));
  Rule& site =
      model.rules.emplace_back(make_rule("site.data", "ryan", "Public Site", "public/html"));
  site.access = Access::read_only;
  Rule& music = model.rules.emplace_back(make_rule("music_stuff", "gary", ".music", "albums"));
  music.owner = Owner{33, 34};
  music.symlinks = true;
  music.atomic = false;
  model.rules.emplace_back(make_rule("0-x_y", "_svc-2", "Müsik")).owner = Owner{1, 2};
  model.rules.emplace_back(make_rule("scratch", "gary", "tmp")).atomic = false;
  Rule& limited = model.rules.emplace_back(make_rule("thttpd_files", "gary", "site", "site"));
  limited.limit.bytes = 9223372036854775807u;
  limited.limit.files = 1;
  limited.umask = 0;
  Rule& everything = model.rules.emplace_back(make_rule("v", "quo", "all", "a/b"));
  everything.access = Access::read_only;
  everything.owner = Owner{33, 34};
  everything.symlinks = true;
  everything.atomic = false;
  everything.limit.files = 100000;
  everything.umask = 0777;
  model.rules.emplace_back(make_rule("v", "quo2", "same", "a/b")).umask = 027;
  return model;
}

}  // namespace

TEST_CASE("users render as name:uid, with the gid only when it differs", "[mapping][render]") {
  CHECK(render_users({User{"ryan", 54321, 54321}, User{"gary", 1001, 100}}) ==
        "ryan:54321,gary:1001:100");
  CHECK(render_users({}).empty());
}

TEST_CASE("a user's limit renders after the ids", "[mapping][render]") {
  User ryan{"ryan", 1000, 1000};
  ryan.limit.bytes = 1ull << 30;
  User gary{"gary", 1001, 100};
  gary.limit.files = 5000;
  gary.limit.bytes = 3000;
  CHECK(render_users({ryan, gary}) == "ryan:1000:quota=1G,gary:1001:100:quota=3000:files=5000");
}

TEST_CASE("rules render options in a fixed order and omit defaults", "[mapping][render]") {
  CHECK(render_rule(make_rule("v", "ryan", "web")) == "v:ryan:web");
  Rule rule = make_rule("v", "ryan", "web", "a/b");
  rule.atomic = false;
  rule.symlinks = true;
  rule.owner = Owner{33, 34};
  rule.access = Access::read_only;
  CHECK(render_rule(rule) == "v/a/b:ryan:web:ro:owner=33:34:symlinks:noatomic");
  CHECK(render_rules(rich_model().rules).find(",music_stuff/albums:gary:.music:owner=33:34:"
                                              "symlinks:noatomic,") != std::string::npos);
  rule.limit.bytes = 5ull << 30;
  rule.limit.files = 10;
  rule.umask = 027;
  CHECK(render_rule(rule) == "v/a/b:ryan:web:ro:owner=33:34:symlinks:noatomic:quota=5G:files=10:umask=0027");
  Rule only_umask = make_rule("v", "ryan", "web");
  only_umask.umask = 022;  // said, so kept, though it is the default's value
  CHECK(render_rule(only_umask) == "v:ryan:web:umask=0022");
}

TEST_CASE("parse(render(model)) gives the model back", "[mapping][render]") {
  const Model model = rich_model();
  const std::string users = render_users(model.users);
  const std::string rules = render_rules(model.rules);
  INFO(users << "\n" << rules);
  const Parsed parsed = parse_env(users, rules);
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  CHECK(parsed.model == model);
}

TEST_CASE("render(parse(text)) gives the canonical text", "[mapping][render]") {
  const Parsed parsed = parse_env(" ryan:54321:54321:files=0010:quota=1024K , gary:1001:100,",
                                  "v/a/:ryan:web:symlinks:umask=077:atomic:quota=2048M:ro,w:gary:x:noatomic:owner=5:6");
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  CHECK(render_users(parsed.model.users) == "ryan:54321:quota=1M:files=10,gary:1001:100");
  CHECK(render_rules(parsed.model.rules) ==
        "v/a:ryan:web:ro:symlinks:quota=2G:umask=0077,w:gary:x:owner=5:6:noatomic");
}
