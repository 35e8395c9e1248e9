// The JSON writer: nesting and misuse (its quoting: tests/unit/test_json.cpp).
#include <sstream>

#include "gateway/json_writer.hpp"
#include "support/catch.hpp"

using gw::gateway::JsonWriter;

TEST_CASE("JsonWriter nests objects and arrays", "[cli][json]") {
  std::ostringstream out;
  JsonWriter json(out);
  json.begin_object().field("name", "ryan").field("uid", 54321u).field("ok", true);
  json.key("empty").begin_array().end_array();
  json.key("list").begin_array().number(-1).null().string("x").end_array();
  json.end_object().finish();
  CHECK(out.str() ==
        "{\n"
        "  \"name\": \"ryan\",\n"
        "  \"uid\": 54321,\n"
        "  \"ok\": true,\n"
        "  \"empty\": [],\n"
        "  \"list\": [\n"
        "    -1,\n"
        "    null,\n"
        "    \"x\"\n"
        "  ]\n"
        "}\n");
}

TEST_CASE("JsonWriter refuses malformed documents", "[cli][json]") {
  std::ostringstream out;
  JsonWriter json(out);
  json.begin_object();
  CHECK_THROWS_AS(json.string("value without key"), std::logic_error);
  CHECK_THROWS_AS(json.end_array(), std::logic_error);
  CHECK_THROWS_AS(json.finish(), std::logic_error);
}
