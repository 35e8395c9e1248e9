// Real keys for the key tests (unit: test_keys; cli: test_cli_keys), made by
// ssh-keygen (the tool admins use), so the validator is checked against what
// OpenSSH writes, not hand-made blobs.
#pragma once

#include <string>
#include <vector>

namespace gw::test {

struct GeneratedKey {
  std::string pub;          // the .pub line: "type base64 comment"
  std::string fingerprint;  // as `ssh-keygen -lf` prints it
  std::string private_key;  // the private key file's text
};

struct TestKeys {
  GeneratedKey ed25519, rsa3072, rsa2048, ecdsa;
  std::vector<GeneratedKey> more_ed25519;  // four distinct ones, for concurrency
  std::string ed25519_cert;                // an ed25519 user certificate line
  std::string ed25519_rfc4716;             // the ed25519 key exported as RFC 4716
};

// Generated on first use into a temp folder (exits 77 without ssh-keygen).
const TestKeys& test_keys();

// The base64 word of a .pub line.
std::string blob_of(const std::string& pub);

}  // namespace gw::test
