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
  model.users = {User{"ryan", 54321, 54321}, User{"gary", 1001, 100}, User{"_svc-2", 7, 8}};
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
  return model;
}

}  // namespace

TEST_CASE("users render as name:uid, with the gid only when it differs", "[mapping][render]") {
  CHECK(render_users({User{"ryan", 54321, 54321}, User{"gary", 1001, 100}}) ==
        "ryan:54321,gary:1001:100");
  CHECK(render_users({}).empty());
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
  const Parsed parsed = parse_env(" ryan:54321:54321 , gary:1001:100,",
                                  "v/a/:ryan:web:symlinks:atomic:ro,w:gary:x:noatomic:owner=5:6");
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  CHECK(render_users(parsed.model.users) == "ryan:54321,gary:1001:100");
  CHECK(render_rules(parsed.model.rules) == "v/a:ryan:web:ro:symlinks,w:gary:x:owner=5:6:noatomic");
}
