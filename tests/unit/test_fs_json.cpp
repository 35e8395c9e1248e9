// fs::json_quote, the one JSON string quoting (audit lines, `check --json`,
// `status --json`): what JSON requires escaped, and bytes that are not UTF-8.
#include <cstdio>
#include <string>

#include "fs/json.hpp"
#include "support/catch.hpp"

using gw::fs::json_quote;

TEST_CASE("json_quote escapes what JSON requires", "[fs][json]") {
  CHECK(json_quote("plain") == "\"plain\"");
  CHECK(json_quote("") == "\"\"");
  CHECK(json_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(json_quote("l1\nl2\t\r") == "\"l1\\nl2\\t\\r\"");
  CHECK(json_quote(std::string("nul\0x", 5)) == "\"nul\\u0000x\"");
  CHECK(json_quote("\x1b[31m") == "\"\\u001b[31m\"");
  CHECK(json_quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST_CASE("json_quote escapes every control byte and DEL, nothing else in ASCII", "[fs][json]") {
  for (int c = 0; c < 0x80; ++c) {
    const std::string quoted = json_quote(std::string(1, static_cast<char>(c)));
    INFO("byte " << c << " -> " << quoted);
    if (c == '\n' || c == '\r' || c == '\t' || c == '"' || c == '\\') {
      CHECK(quoted.size() == 4);  // "\n", "\"", ...
    } else if (c < 0x20 || c == 0x7f) {
      char expected[16];
      std::snprintf(expected, sizeof expected, "\"\\u%04x\"", c);
      CHECK(quoted == expected);
    } else {
      CHECK(quoted == "\"" + std::string(1, static_cast<char>(c)) + "\"");
    }
  }
}

TEST_CASE("json_quote: a name cannot forge a field or end the line", "[fs][json]") {
  const std::string forged = "x\",\"op\":\"forged\"}\n{\"op\":\"x";
  const std::string quoted = json_quote(forged);
  CHECK(quoted == "\"x\\\",\\\"op\\\":\\\"forged\\\"}\\n{\\\"op\\\":\\\"x\"");
  CHECK(quoted.find('\n') == std::string::npos);
  // Every quote inside is escaped: only the outer two stand alone.
  std::size_t bare = 0;
  for (std::size_t i = 0; i < quoted.size(); ++i)
    if (quoted[i] == '"' && (i == 0 || quoted[i - 1] != '\\')) ++bare;
  CHECK(bare == 2);
}

TEST_CASE("json_quote replaces bytes that are not UTF-8, one U+FFFD each", "[fs][json]") {
  CHECK(json_quote("a\xff" "b") == "\"a\\ufffdb\"");
  CHECK(json_quote("\xc3") == "\"\\ufffd\"");                        // truncated
  CHECK(json_quote("\xc0\xaf") == "\"\\ufffd\\ufffd\"");             // overlong '/'
  CHECK(json_quote("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  CHECK(json_quote("\xf4\x90\x80\x80") == "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // above U+10FFFF
  CHECK(json_quote("\x80" "ok") == "\"\\ufffdok\"");                 // a lone continuation byte
  // A valid sequence right after an invalid byte is kept.
  CHECK(json_quote("\xff\xc3\xa9") == "\"\\ufffd\xc3\xa9\"");
}
