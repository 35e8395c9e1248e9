#include "keys_support.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cli/cli_support.hpp"
#include "support/prerequisite.hpp"

namespace gw::test {
namespace {

constexpr const char* kKeygen = "/usr/bin/ssh-keygen";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

RunResult keygen(const std::vector<std::string>& args) {
  RunResult r = run_program(kKeygen, args);
  if (r.code != 0) throw std::runtime_error("ssh-keygen failed: " + r.err);
  return r;
}

GeneratedKey generate(const TempDir& dir, const std::string& name, const std::vector<std::string>& type_args) {
  const std::string file = dir / name;
  std::vector<std::string> args{"-q", "-N", "", "-C", name + "@test", "-f", file};
  args.insert(args.end(), type_args.begin(), type_args.end());
  keygen(args);
  GeneratedKey key;
  key.pub = first_line(read_text(file + ".pub"));
  key.private_key = read_text(file);
  // "256 SHA256:... comment (ED25519)"
  key.fingerprint = words(keygen({"-l", "-E", "sha256", "-f", file + ".pub"}).out).at(1);
  return key;
}

TestKeys make_keys() {
  require(::access(kKeygen, X_OK) == 0, "ssh-keygen (package openssh-client)");
  static const TempDir dir;  // lives as long as the keys are used
  TestKeys k;
  k.ed25519 = generate(dir, "ed25519", {"-t", "ed25519"});
  k.rsa3072 = generate(dir, "rsa3072", {"-t", "rsa", "-b", "3072"});
  k.rsa2048 = generate(dir, "rsa2048", {"-t", "rsa", "-b", "2048"});
  k.ecdsa = generate(dir, "ecdsa", {"-t", "ecdsa", "-b", "256"});
  for (int i = 0; i < 4; ++i) k.more_ed25519.push_back(generate(dir, "more" + std::to_string(i), {"-t", "ed25519"}));
  // Sign the ed25519 key with the ECDSA one as CA: ssh-keygen writes ed25519-cert.pub.
  keygen({"-q", "-s", dir / "ecdsa", "-I", "test", "-n", "ryan", dir / "ed25519.pub"});
  k.ed25519_cert = first_line(read_text(dir / "ed25519-cert.pub"));
  k.ed25519_rfc4716 = keygen({"-e", "-f", dir / "ed25519.pub"}).out;
  return k;
}

}  // namespace

const TestKeys& test_keys() {
  static const TestKeys keys = make_keys();
  return keys;
}

std::string blob_of(const std::string& pub) { return words(pub).at(1); }

}  // namespace gw::test
