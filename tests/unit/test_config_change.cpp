// What a reload finds changed in the config file (gateway/options/
// config_change.hpp): the items of the `users` and `map` lines that left and
// came in, with the lines they are on, and nullopt for anything else.
#include "gateway/options/config_change.hpp"
#include "support/catch.hpp"

using gw::gateway::lists_change;

namespace {

std::vector<std::string> texts(const std::vector<gw::mapping::Item>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.text + " @" + std::to_string(item.line) + " " + item.source);
  return out;
}

const std::string kBase =
    "# users and their folders\n"
    "port = 2222\n"
    "users = ann:1000\n"
    "users = bob:1001\n"
    "map = web:ann:web\n"
    "map = music:bob:music\n";

}  // namespace

TEST_CASE("the same text changes nothing", "[config][change]") {
  const auto c = lists_change("gateway.conf", kBase, kBase);
  REQUIRE(c);
  CHECK(c->items.added_users.empty());
  CHECK(c->items.removed_users.empty());
  CHECK(c->old_lines == 0);
  CHECK(c->new_lines == 0);
}

TEST_CASE("a user and a rule added in the middle: their items, named by their lines", "[config][change]") {
  std::string now = kBase;
  now.insert(now.find("map = web"), "users = cid:1002, dan:1003\n");
  now += "map = web/cid:cid:site\n";
  const auto c = lists_change("gateway.conf", kBase, now);
  REQUIRE(c);
  CHECK(c->first_line == 5);
  CHECK(texts(c->items.added_users) ==
        std::vector<std::string>{"cid:1002 @5 gateway.conf line 5 item 1", "dan:1003 @5 gateway.conf line 5 item 2"});
  // The unchanged map lines between the two additions are in the differing
  // part, but they are in both texts: no item of theirs changes, they move.
  CHECK(c->items.removed_rules.empty());
  CHECK(texts(c->items.added_rules) == std::vector<std::string>{"web/cid:cid:site @8 gateway.conf line 8"});
  CHECK(c->old_lines == 2);
  CHECK(c->new_lines == 4);
  CHECK(c->line_now(3) == 3);  // before the part
  CHECK(c->line_now(5) == 6);  // in it, kept
  CHECK(c->line_now(6) == 7);
}

TEST_CASE("a user's lines far apart: only they change, the lines between move", "[config][change]") {
  std::string then;
  for (int i = 0; i < 5; ++i) then += "users = u" + std::to_string(i) + ":" + std::to_string(1000 + i) + "\n";
  for (int i = 0; i < 5; ++i) then += "map = v" + std::to_string(i) + ":u" + std::to_string(i) + ":m\n";
  std::string now = then;
  now.erase(now.find("users = u2:"), std::string("users = u2:1002\n").size());
  now.erase(now.find("map = v2:"), std::string("map = v2:u2:m\n").size());
  const auto c = lists_change("gateway.conf", then, now);
  REQUIRE(c);
  CHECK(texts(c->items.removed_users) == std::vector<std::string>{"u2:1002 @3 gateway.conf line 3"});
  CHECK(texts(c->items.removed_rules) == std::vector<std::string>{"v2:u2:m @8 gateway.conf line 8"});
  CHECK(c->items.added_users.empty());
  CHECK(c->items.added_rules.empty());
  CHECK(c->line_now(3) == 0);  // left
  CHECK(c->line_now(4) == 3);  // u3 moved up one
  CHECK(c->line_now(9) == 7);  // v3 two
  CHECK(c->line_now(10) == 8);

  // Two kept lines that swap places: all of the part counts as changed.
  std::string swapped = then;
  swapped.replace(swapped.find("users = u1:1001"), 15, "users = u3:1003");
  swapped.replace(swapped.rfind("users = u3:1003"), 15, "users = u1:1001");
  const auto s = lists_change("gateway.conf", then, swapped);
  REQUIRE(s);
  CHECK(s->items.removed_users.size() == 3);  // u1, u2, u3
  CHECK(s->items.added_users.size() == 3);
}

TEST_CASE("a line removed, and a last line without its newline", "[config][change]") {
  std::string now = kBase;
  now.erase(now.find("users = bob"), std::string("users = bob:1001\n").size());
  auto c = lists_change("gateway.conf", kBase, now);
  REQUIRE(c);
  CHECK(texts(c->items.removed_users) == std::vector<std::string>{"bob:1001 @4 gateway.conf line 4"});
  CHECK(c->items.added_users.empty());
  CHECK(c->old_lines == 1);
  CHECK(c->new_lines == 0);

  const std::string open_end = kBase + "map = docs:ann:docs";
  c = lists_change("gateway.conf", open_end, open_end + ",extra:ann:extra");
  REQUIRE(c);
  CHECK(texts(c->items.removed_rules) == std::vector<std::string>{"docs:ann:docs @7 gateway.conf line 7"});
  CHECK(texts(c->items.added_rules) == std::vector<std::string>{"docs:ann:docs @7 gateway.conf line 7 item 1",
                                                                "extra:ann:extra @7 gateway.conf line 7 item 2"});
}

TEST_CASE("any other key, or a line the scan refuses, takes the whole path", "[config][change]") {
  std::string port = kBase;
  port.replace(port.find("2222"), 4, "2223");
  CHECK_FALSE(lists_change("gateway.conf", kBase, port));
  CHECK_FALSE(lists_change("gateway.conf", kBase, kBase + "umask = 027\n"));
  CHECK_FALSE(lists_change("gateway.conf", kBase, kBase + "[section]\n"));
  CHECK_FALSE(lists_change("gateway.conf", kBase, kBase + "no equals sign\n"));
  // Comments and blank lines are no change of their own.
  const auto c = lists_change("gateway.conf", kBase, kBase + "\n# more later\n");
  REQUIRE(c);
  CHECK(c->items.added_users.empty());
  CHECK(c->new_lines == 2);
}
