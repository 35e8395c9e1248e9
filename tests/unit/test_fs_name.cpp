// Name: the only way a user-supplied name reaches a backing syscall.
#include <string>
#include <string_view>
#include <vector>

#include "fs/name.hpp"
#include "support/catch.hpp"

using gw::fs::Name;

TEST_CASE("a name is one path component", "[fs][name]") {
  for (const std::string& ok : std::vector<std::string>{"a", "site.html", ".hidden", "...", "a b", "-", std::string(255, 'x')}) {
    INFO(ok);
    const auto n = Name::from(ok);
    REQUIRE(n);
    CHECK(n->str() == ok);
    CHECK(std::string(n->c_str()) == ok);
  }
}

TEST_CASE("empty, dot, dot-dot, slashes and NUL bytes are no names", "[fs][name]") {
  using namespace std::string_view_literals;
  for (const std::string_view bad : {""sv, "."sv, ".."sv, "/"sv, "a/b"sv, "../x"sv, "a/"sv, "a\0b"sv}) {
    INFO(std::string(bad));
    CHECK_FALSE(Name::from(bad));
  }
}
