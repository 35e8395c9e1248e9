// One authorized key line, checked with libssh: what is accepted, and each
// refusal with its message. The keys are real ones made by ssh-keygen.
#include <string>

#include "gateway/keys/authorized_key.hpp"
#include "gateway/exit_codes.hpp"
#include "support/catch.hpp"
#include "support/keys_support.hpp"

using gw::gateway::check_key_line;
using gw::gateway::KeyLine;
using gw::gateway::parse_keys;
using gw::test::blob_of;
using gw::test::test_keys;

namespace {

std::string refusal(const std::string& line) {
  const KeyLine checked = check_key_line(line);
  INFO(line.substr(0, 120));
  REQUIRE(checked.kind == KeyLine::Kind::refused);
  return checked.reason;
}

// The message of parse_keys' UsageError (exit code 2) for text.
std::string parse_error(const std::string& text) {
  try {
    parse_keys(text, "stdin");
  } catch (const gw::gateway::UsageError& e) {
    CHECK(e.code() == gw::gateway::exit_code::usage);
    return e.what();
  }
  FAIL("accepted: " << text.substr(0, 120));
  return {};
}

}  // namespace

TEST_CASE("ed25519 and RSA-3072 keys are accepted with ssh-keygen's fingerprint", "[keys]") {
  const auto& k = test_keys();
  const KeyLine ed = check_key_line(k.ed25519.pub);
  REQUIRE(ed.kind == KeyLine::Kind::key);
  CHECK(ed.key.type == "ssh-ed25519");
  CHECK(ed.key.bits == 256);
  CHECK(ed.key.fingerprint == k.ed25519.fingerprint);
  CHECK(ed.key.comment == "ed25519@test");
  CHECK(ed.key.line() == k.ed25519.pub);

  const KeyLine rsa = check_key_line(k.rsa3072.pub);
  REQUIRE(rsa.kind == KeyLine::Kind::key);
  CHECK(rsa.key.type == "ssh-rsa");
  CHECK(rsa.key.bits == 3072);
  CHECK(rsa.key.fingerprint == k.rsa3072.fingerprint);
  CHECK(rsa.key.base64 == blob_of(k.rsa3072.pub));
}

TEST_CASE("comments are kept with blanks collapsed; blank and # lines hold nothing", "[keys]") {
  const std::string blob = blob_of(test_keys().ed25519.pub);
  const KeyLine spaced = check_key_line("  ssh-ed25519\t" + blob + "  alice \t at\\laptop  \r");
  REQUIRE(spaced.kind == KeyLine::Kind::key);
  CHECK(spaced.key.comment == "alice at\\laptop");
  const KeyLine bare = check_key_line("ssh-ed25519 " + blob);
  REQUIRE(bare.kind == KeyLine::Kind::key);
  CHECK(bare.key.comment.empty());
  CHECK(bare.key.line() == "ssh-ed25519 " + blob);
  const KeyLine unicode = check_key_line("ssh-ed25519 " + blob + " Zoë's key");
  CHECK(unicode.kind == KeyLine::Kind::key);
  for (const char* blank : {"", "   ", "\t", "\r", "# ssh-ed25519 AAAA comment"})
    CHECK(check_key_line(blank).kind == KeyLine::Kind::blank);
}

TEST_CASE("private keys are refused without echoing them", "[keys]") {
  const auto& k = test_keys();
  const std::string message = parse_error(k.ed25519.private_key);
  CHECK_THAT(message, Catch::StartsWith("stdin line 1: this is a PRIVATE key"));
  const std::string body = k.ed25519.private_key.substr(k.ed25519.private_key.find('\n') + 1, 40);
  CHECK(message.find(body) == std::string::npos);
  CHECK_THAT(refusal("-----BEGIN RSA PRIVATE KEY-----"), Catch::Contains("PRIVATE key"));
  CHECK_THAT(refusal("-----BEGIN OPENSSH PRIVATE KEY-----"), Catch::Contains("PRIVATE key"));
  CHECK_THAT(refusal("PuTTY-User-Key-File-3: ssh-ed25519"), Catch::Contains("PRIVATE key"));
  // A public key in another format: refused, with the conversion to use.
  CHECK_THAT(parse_error(test_keys().ed25519_rfc4716), Catch::Contains("line 1: a PEM or RFC 4716 block") &&
                                                          Catch::Contains("ssh-keygen -i"));
}

TEST_CASE("other key types and certificates are refused by name", "[keys]") {
  const auto& k = test_keys();
  CHECK(refusal(k.ecdsa.pub) ==
        "ecdsa-sha2-nistp256 keys are not accepted (accepted: ssh-ed25519, or ssh-rsa of at least 3072 bits)");
  CHECK_THAT(refusal("ssh-dss AAAAB3NzaC1kc3MAAACBAP comment"), Catch::StartsWith("ssh-dss keys are not accepted"));
  CHECK_THAT(refusal("sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t x"),
             Catch::StartsWith("sk-ssh-ed25519@openssh.com keys are not accepted"));
  CHECK_THAT(refusal(k.ed25519_cert), Catch::StartsWith("certificates (ssh-ed25519-cert-v01@openssh.com)"));
  CHECK_THAT(refusal("rsa-sha2-256 " + blob_of(k.rsa3072.pub)), Catch::Contains("type is ssh-rsa"));
}

TEST_CASE("RSA keys under 3072 bits are refused with their size", "[keys]") {
  CHECK_THAT(refusal(test_keys().rsa2048.pub), Catch::StartsWith("RSA key of 2048 bits; at least 3072 are required"));
}

TEST_CASE("options before the key type are refused", "[keys]") {
  const std::string key = test_keys().ed25519.pub;
  for (const std::string& options : {std::string("command=\"/bin/sh -c 'id'\""), std::string("from=\"10.0.0.1\""),
                                     std::string("restrict"), std::string("no-pty,permitopen=\"h:1\"")}) {
    CHECK_THAT(refusal(options + " " + key), Catch::StartsWith("options before the key type"));
  }
}

TEST_CASE("garbage, bad base64 and damaged key data are refused", "[keys]") {
  const auto& k = test_keys();
  const std::string ed = blob_of(k.ed25519.pub);
  CHECK_THAT(refusal("hello world"), Catch::StartsWith("not an OpenSSH public key line"));
  CHECK_THAT(refusal("The agent has no identities."), Catch::StartsWith("not an OpenSSH public key line"));
  CHECK_THAT(refusal("ssh-ed25519"), Catch::StartsWith("the key data is missing"));
  CHECK_THAT(refusal("ssh-ed25519 AAAA$$$$ x"), Catch::StartsWith("the key data is not valid base64"));
  CHECK_THAT(refusal("ssh-ed25519 " + ed.substr(0, ed.size() - 3) + " x"), Catch::Contains("not valid base64"));
  CHECK_THAT(refusal("ssh-ed25519 " + ed.substr(0, ed.size() - 4) + " x"), Catch::Contains("damaged"));
  CHECK_THAT(refusal("ssh-ed25519 " + ed + "AAAA x"), Catch::StartsWith("the key data has extra or malformed bytes"));
  CHECK_THAT(refusal("ssh-ed25519 " + blob_of(k.rsa3072.pub)), Catch::StartsWith("the key data is not an ssh-ed25519 key"));
  CHECK_THAT(refusal("ssh-rsa " + ed), Catch::StartsWith("the key data is not an ssh-rsa key"));
}

TEST_CASE("over-long lines and unsafe comments are refused", "[keys]") {
  const std::string key = test_keys().ed25519.pub;
  CHECK_THAT(refusal(key + " " + std::string(9000, 'x')), Catch::StartsWith("the line is longer than 8 KiB"));
  CHECK(check_key_line(key + " " + std::string(1000, 'x')).kind == KeyLine::Kind::key);
  for (const std::string& comment : {std::string("a\x01z"), std::string("red\x1b[31m"), std::string("nul\0x", 5),
                                     std::string("bidi \xE2\x80\xAE"), std::string("bad \xff utf8")}) {
    CHECK(refusal(key + " " + comment) == "the comment holds a control character or invalid UTF-8");
  }
}

TEST_CASE("parse_keys takes all lines or none and names the bad line", "[keys]") {
  const auto& k = test_keys();
  const std::string paste = "# my keys\r\n" + k.ed25519.pub + "\r\n\n" + k.rsa3072.pub + "\n";
  const auto keys = parse_keys(paste, "stdin");
  REQUIRE(keys.size() == 2);
  CHECK(keys[0].fingerprint == k.ed25519.fingerprint);
  CHECK(keys[1].fingerprint == k.rsa3072.fingerprint);
  CHECK_THAT(parse_error(k.ed25519.pub + "\n\n" + k.rsa2048.pub + "\n" + k.ecdsa.pub),
             Catch::StartsWith("stdin line 3: RSA key of 2048 bits"));
  CHECK(parse_keys("", "stdin").empty());
}
