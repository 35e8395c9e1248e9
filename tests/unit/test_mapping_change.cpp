// A change of a few users and rules, decided against what is served
// (mapping/change.hpp): for every change it accepts, the plans must be
// exactly those a whole parse of the new configuration gives; everything
// else it leaves to the whole parse (nullopt).
#include <map>

#include "mapping/change.hpp"
#include "mapping_support.hpp"
#include "support/catch.hpp"

using namespace gw::mapping;
using gw::test::all_lines;
using gw::test::parse_env;

namespace {

const Paths kPaths{"/srv/data", "/srv/volumes"};

Plan whole_plan(std::string_view users, std::string_view rules, const Defaults& defaults = {}) {
  const Parsed parsed = parse_env(users, rules);
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  return make_plan(parsed.model, kPaths, defaults);
}

std::vector<Item> items(std::string_view list, std::string_view label) { return split_list(list, label); }

// The served side of `plan`.
struct ServedPlan {
  explicit ServedPlan(const Plan& p) : plan(p) {
    for (const UserPlan& up : plan.users) users.push_back(up.user);
  }
  Served served() const {
    return Served{[this](std::string_view name) { return plan.find(name); }, &users};
  }
  Plan plan;
  std::vector<User> users;
};

std::optional<PlanChange> change(const Plan& before, std::string_view removed_users, std::string_view added_users,
                                 std::string_view removed_rules, std::string_view added_rules,
                                 const Defaults& defaults = {}) {
  const ServedPlan served(before);
  Change c{items(removed_users, "old"), items(added_users, "new"), items(removed_rules, "old"),
           items(added_rules, "new")};
  return apply_change(c, served.served(), kPaths, defaults);
}

// `before` with the change applied, by user name.
std::map<std::string, UserPlan> applied(const Plan& before, const PlanChange& c) {
  std::map<std::string, UserPlan> out;
  for (const UserPlan& up : before.users) out[up.user.name] = up;
  for (const std::string& name : c.removed) out.erase(name);
  for (const UserPlan& up : c.put) out[up.user.name] = up;
  return out;
}

std::map<std::string, UserPlan> by_name(const Plan& plan) {
  std::map<std::string, UserPlan> out;
  for (const UserPlan& up : plan.users) out[up.user.name] = up;
  return out;
}

}  // namespace

TEST_CASE("an added user and its rules: exactly the plan a whole parse gives, and only that user", "[mapping][change]") {
  const Plan before = whole_plan("ann:1000,bob:1001", "web:ann:web,music:bob:music");
  const auto c = change(before, "", "cid:1002:1500", "", "web/cid:cid:site:ro,music:cid:music:symlinks");
  REQUIRE(c);
  CHECK(c->removed.empty());
  REQUIRE(c->put.size() == 1);
  CHECK(c->put[0].user.name == "cid");
  REQUIRE(c->added_users.size() == 1);
  CHECK(c->added_users[0] == User{"cid", 1002, 1500});
  const Plan after = whole_plan("ann:1000,bob:1001,cid:1002:1500",
                                "web:ann:web,music:bob:music,web/cid:cid:site:ro,music:cid:music:symlinks");
  CHECK(applied(before, *c) == by_name(after));
}

TEST_CASE("a removed user goes with its rules, and a changed rule changes its user's plan", "[mapping][change]") {
  const Plan before = whole_plan("ann:1000,bob:1001", "web:ann:web,music:bob:music,docs:bob:docs");
  const auto gone = change(before, "bob:1001", "", "music:bob:music,docs:bob:docs", "");
  REQUIRE(gone);
  CHECK(gone->put.empty());
  CHECK(gone->removed == std::vector<std::string>{"bob"});
  CHECK(applied(before, *gone) == by_name(whole_plan("ann:1000", "web:ann:web")));

  const auto ro = change(before, "", "", "docs:bob:docs", "docs:bob:docs:ro:owner=2000:2000");
  REQUIRE(ro);
  REQUIRE(ro->put.size() == 1);
  CHECK(applied(before, *ro) ==
        by_name(whole_plan("ann:1000,bob:1001", "web:ann:web,music:bob:music,docs:bob:docs:ro:owner=2000:2000")));

  // A user's item rewritten (a new gid) keeps the user's rules.
  const auto gid = change(before, "bob:1001", "bob:1001:3000", "", "");
  REQUIRE(gid);
  REQUIRE(gid->put.size() == 1);
  CHECK(applied(before, *gid) ==
        by_name(whole_plan("ann:1000,bob:1001:3000", "web:ann:web,music:bob:music,docs:bob:docs")));
}

TEST_CASE("a line moved changes no plan", "[mapping][change]") {
  const Plan before = whole_plan("ann:1000,bob:1001", "web:ann:web");
  const auto c = change(before, "ann:1000", "ann:1000", "web:ann:web", "web:ann:web");
  REQUIRE(c);
  CHECK(c->put.empty());
  CHECK(c->removed.empty());
  CHECK(c->added_users.size() == 1);  // the caller puts it where its line is now
}

TEST_CASE("what only the whole parse may decide is left to it", "[mapping][change]") {
  const Plan before = whole_plan("ann:1000,bob:1001", "web:ann:web,music:bob:music");
  // Problems, which the whole parse names with their lines.
  CHECK_FALSE(change(before, "bob:1001", "", "", ""));                  // bob's rule stays: unknown user
  CHECK_FALSE(change(before, "", "", "", "web:cid:web"));               // no such user
  CHECK_FALSE(change(before, "", "cid:1001", "", ""));                  // bob's uid
  CHECK_FALSE(change(before, "", "ann:1005", "", ""));                  // a second ann
  CHECK_FALSE(change(before, "", "cid:1002,dan:1002", "", ""));         // one uid twice among the new
  CHECK_FALSE(change(before, "", "", "", "music:ann:web"));             // ann's mount name twice
  CHECK_FALSE(change(before, "", "", "music:ann:music", ""));           // no such rule served
  CHECK_FALSE(change(before, "ann:1001", "", "web:ann:web", ""));       // not the item served
  CHECK_FALSE(change(before, "", "cid:abc", "", ""));                   // syntax
  CHECK_FALSE(change(before, "", "", "", "web:ann:more:bogus"));        // an unknown option
  // Limits reach across users (one folder, one limit, every mapping of it).
  CHECK_FALSE(change(before, "", "cid:1002:1002:quota=1G", "", ""));
  CHECK_FALSE(change(before, "", "", "", "web:bob:web:files=10"));
  CHECK_FALSE(change(before, "", "cid:1002", "", "", Defaults{.home_limit = Limit{1u << 20, {}}}));

  // The same uid is free once its user goes in the same change.
  const auto swap = change(before, "bob:1001", "cid:1001", "music:bob:music", "music:cid:music");
  REQUIRE(swap);
  CHECK(applied(before, *swap) == by_name(whole_plan("ann:1000,cid:1001", "web:ann:web,music:cid:music")));
}
