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
  // The unchanged map lines between the two additions are in the changed part too.
  CHECK(texts(c->items.removed_rules) ==
        std::vector<std::string>{"web:ann:web @5 gateway.conf line 5", "music:bob:music @6 gateway.conf line 6"});
  CHECK(texts(c->items.added_rules) ==
        std::vector<std::string>{"web:ann:web @6 gateway.conf line 6", "music:bob:music @7 gateway.conf line 7",
                                 "web/cid:cid:site @8 gateway.conf line 8"});
  CHECK(c->old_lines == 2);
  CHECK(c->new_lines == 4);
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
