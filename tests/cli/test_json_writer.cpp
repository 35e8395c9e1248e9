// The JSON writer: escaping, nesting and misuse.
#include <sstream>

#include "gateway/json_writer.hpp"
#include "support/catch.hpp"

using gw::gateway::json_quote;
using gw::gateway::JsonWriter;

TEST_CASE("json_quote escapes what JSON requires", "[cli][json]") {
  CHECK(json_quote("plain") == "\"plain\"");
  CHECK(json_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(json_quote("l1\nl2\t\r") == "\"l1\\nl2\\t\\r\"");
  CHECK(json_quote(std::string("nul\0x", 5)) == "\"nul\\u0000x\"");
  CHECK(json_quote("\x1b[31m") == "\"\\u001b[31m\"");
  CHECK(json_quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST_CASE("json_quote replaces bytes that are not UTF-8", "[cli][json]") {
  CHECK(json_quote("a\xff" "b") == "\"a\\ufffdb\"");
  CHECK(json_quote("\xc3") == "\"\\ufffd\"");                   // truncated
  CHECK(json_quote("\xc0\xaf") == "\"\\ufffd\\ufffd\"");        // overlong '/'
  CHECK(json_quote("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
}

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
