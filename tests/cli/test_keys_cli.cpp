// `gateway keys` through the real binary ($GATEWAY_BIN): output lines,
// "gateway: <what>" errors and exit codes.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "support/catch.hpp"
#include "support/keys_support.hpp"

using gw::test::Env;
using gw::test::lines;
using gw::test::RunResult;
using gw::test::TempDir;
using gw::test::test_keys;
using gw::test::words;

namespace {

const Env users_env{{"SFTP_USERS", "ryan:54321,gary:1001"}};

struct KeysCli {
  TempDir dir;
  std::string state = dir / "state";

  RunResult run(std::vector<std::string> args, const std::string& input = "", const Env& env = users_env) const {
    args.insert(args.begin(), "keys");
    args.insert(args.end(), {"--state-dir", state});
    return gw::test::run_program(gw::test::gateway_bin(), args, env, input);
  }
};

}  // namespace

TEST_CASE("keys add from stdin, list, remove and clear", "[keys][cli]") {
  const auto& k = test_keys();
  const KeysCli cli;
  RunResult r = cli.run({"add", "--user", "ryan"}, k.ed25519.pub + "\n" + k.rsa3072.pub + "\n");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(lines(r.out) == std::vector<std::string>{"added ryan ssh-ed25519 256 " + k.ed25519.fingerprint + " ed25519@test",
                                                 "added ryan ssh-rsa 3072 " + k.rsa3072.fingerprint + " rsa3072@test"});
  r = cli.run({"add", "--user", "ryan", "-"}, k.ed25519.pub);
  CHECK(r.code == 0);
  CHECK(r.out == "already present ryan ssh-ed25519 256 " + k.ed25519.fingerprint + " ed25519@test\n");

  r = cli.run({"list"});
  CHECK(r.code == 0);
  CHECK(lines(r.out) == std::vector<std::string>{"ryan ssh-ed25519 256 " + k.ed25519.fingerprint + " ed25519@test",
                                                 "ryan ssh-rsa 3072 " + k.rsa3072.fingerprint + " rsa3072@test",
                                                 "gary (no keys)"});
  r = cli.run({"list", "--user", "ryan", "--format", "json"});
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("\"fingerprint\": \"" + k.rsa3072.fingerprint + "\"") &&
                        Catch::Contains("\"bits\": 3072") && !Catch::Contains("gary"));

  r = cli.run({"remove", "--user", "ryan", k.rsa3072.fingerprint});
  CHECK(r.code == 0);
  CHECK(r.out == "removed ryan ssh-rsa 3072 " + k.rsa3072.fingerprint + " rsa3072@test\n");
  r = cli.run({"remove", "--user", "ryan", k.rsa3072.fingerprint});
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("gateway: user ryan has no key " + k.rsa3072.fingerprint));

  r = cli.run({"clear", "--user", "ryan"});
  CHECK(r.code == 0);
  CHECK(r.out == "cleared ryan (1 key removed)\n");
  CHECK(cli.run({"list", "--user", "ryan"}).out == "ryan (no keys)\n");
}

TEST_CASE("keys add from a file and from --config users", "[keys][cli]") {
  const auto& k = test_keys();
  const KeysCli cli;
  gw::test::write_file(cli.dir / "keys.pub", k.ed25519.pub + "\n");
  gw::test::write_file(cli.dir / "gateway.conf", "users = alice:2000\n");
  const RunResult r = cli.run({"add", "--config", cli.dir / "gateway.conf", "--user", "alice", cli.dir / "keys.pub"},
                              "", {});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(words(r.out).at(0) == "added");
  CHECK(words(r.out).at(1) == "alice");
}

TEST_CASE("keys refuses bad input with exit code 2 and changes nothing", "[keys][cli]") {
  const auto& k = test_keys();
  const KeysCli cli;
  RunResult r = cli.run({"add", "--user", "ryan"}, k.ed25519.pub + "\n" + k.rsa2048.pub + "\n");
  CHECK(r.code == 2);
  CHECK(r.err == "gateway: stdin line 2: RSA key of 2048 bits; at least 3072 are required (make one with "
                 "ssh-keygen -t ed25519, or -t rsa -b 4096)\n");
  CHECK(r.out.empty());
  CHECK(cli.run({"list", "--user", "ryan"}).out == "ryan (no keys)\n");  // all or nothing

  r = cli.run({"add", "--user", "ryan"}, k.ed25519.private_key);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("gateway: stdin line 1: this is a PRIVATE key"));
  CHECK(lines(r.err).size() == 1);

  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"add", "--user", "bob"}, "gateway: unknown user 'bob' (configured: ryan, gary)"},
      {{"add"}, "gateway: keys add needs --user USER"},
      {{"remove", "--user", "ryan"}, "gateway: keys remove takes one FINGERPRINT"},
      {{"list", "extra"}, "gateway: keys list takes no argument ('extra')"},
      {{"rotate"}, "gateway: unknown keys action 'rotate'"},
      {{}, "gateway: keys: missing action"},
      {{"--user", "ryan", "add"}, "gateway: keys: the action comes first"},
      {{"add", "--user", "ryan", cli.dir / "missing.pub"}, "gateway: cannot read " + cli.dir / "missing.pub"},
      {{"add", "--user", "ryan"}, "gateway: no key in stdin"},
  };
  for (const auto& [args, error] : cases) {
    r = cli.run(args, "");
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::StartsWith(error));
    CHECK(lines(r.err).size() == 1);
  }
  r = cli.run({"list"}, "", {{"SFTP_USERS", "root:0"}});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("gateway: SFTP_USERS item 1: 'root:0'"));
}

// tests/e2e/test_live.py runs this against a real gateway; here its runtime
// file is written by hand, with this process as the serving pid.
TEST_CASE("keys given no users takes them from the gateway serving with the state folder", "[keys][cli]") {
  const auto& k = test_keys();
  const KeysCli cli;
  const std::string none = "gateway: no users given (--users, SFTP_USERS or --config) and ";
  for (const std::vector<std::string>& args : {std::vector<std::string>{"add", "--user", "ryan"}, {"list"}}) {
    const RunResult r = cli.run(args, k.ed25519.pub, {});
    CHECK(r.code == 2);
    CHECK(r.err == none + "no gateway is serving with state folder " + cli.state + "\n");
  }
  std::filesystem::create_directory(cli.state);
  std::filesystem::permissions(cli.state, std::filesystem::perms::owner_all);
  const std::string runtime = "pid=" + std::to_string(::getpid()) + "\nreloads=0\nlast_reload=ok\nmountpoint=/x\n";
  gw::test::write_file(cli.state + "/runtime", runtime + "users=ryan:54321,gary:1001\n");
  RunResult r = cli.run({"add", "--user", "gary"}, k.ed25519.pub, {});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(words(r.out).at(1) == "gary");
  r = cli.run({"add", "--user", "bob"}, k.ed25519.pub, {});
  CHECK(r.code == 2);
  CHECK(r.err == "gateway: unknown user 'bob' (configured: ryan, gary)\n");

  gw::test::write_file(cli.state + "/runtime", runtime + "users=\n");
  r = cli.run({"list"}, "", {});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith(none + "the gateway serving with state folder " + cli.state) &&
                        Catch::Contains("publishes no users"));
  // Whoever else can write the folder could have named the users.
  gw::test::write_file(cli.state + "/runtime", runtime + "users=ryan:54321\n");
  std::filesystem::permissions(cli.state, std::filesystem::perms::all);
  r = cli.run({"list"}, "", {});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith(none + "the state folder " + cli.state + " is not private"));
}

TEST_CASE("keys --help shows the actions", "[keys][cli]") {
  const KeysCli cli;
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--help"}, {"add", "--help"},
                                               {"remove", "--user", "ryan", "SHA256:x", "-h"}}) {
    const RunResult r = cli.run(args);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("Usage: gateway keys add --user USER [FILE|-]") &&
                          Catch::Contains("--user USER") && Catch::Contains("--state-dir"));
  }
}

TEST_CASE("keys host-secret: a Secret with both host keys; --from-state takes the state's, unchanged", "[keys][cli]") {
  const KeysCli cli;
  // No users needed: it makes or reads host keys only.
  RunResult r = cli.run({"host-secret", "--secret-name", "gw-keys", "--namespace", "sftp"}, "", {});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("kind: Secret\nmetadata:\n  name: gw-keys\n  namespace: sftp\ntype: Opaque\ndata:\n"
                                    "  ssh_host_ed25519_key: ") &&
                        Catch::Contains("\n  ssh_host_rsa_key: "));
  CHECK_THAT(r.err, Catch::Contains("\nHOST ssh-ed25519 AAAA") && Catch::Contains("\nHOST ssh-rsa AAAA"));
  CHECK_FALSE(std::filesystem::exists(cli.state));  // nothing written
  // Two runs, two identities; --from-state repeats the state's.
  const RunResult again = cli.run({"host-secret"}, "", {});
  CHECK(again.code == 0);
  CHECK(words(lines(again.err).at(0)).back() != words(lines(r.err).at(0)).back());
  std::filesystem::create_directories(cli.state + "/host_keys");
  for (const std::string key : {"ssh_host_ed25519_key", "ssh_host_rsa_key"}) {
    const std::string b64 = words(r.out.substr(r.out.find("  " + key + ": ")))[1];
    const RunResult decoded = gw::test::run_program("/usr/bin/base64", {"-d"}, {}, b64);
    gw::test::write_file(cli.state + "/host_keys/" + key, decoded.out);
  }
  const RunResult from_state = cli.run({"host-secret", "--from-state"}, "", {});
  CHECK(from_state.code == 0);
  CHECK(lines(from_state.err).at(0) == lines(r.err).at(0));  // the same fingerprint
  CHECK(lines(from_state.err).at(1) == lines(r.err).at(1));
}

TEST_CASE("keys host-secret refuses a bad name and a state without keys, exit 2", "[keys][cli]") {
  const KeysCli cli;
  RunResult r = cli.run({"host-secret", "--secret-name", "Host_Keys"}, "", {});
  CHECK(r.code == 2);
  CHECK(r.err == "gateway: --secret-name 'Host_Keys' is not a Kubernetes name (lowercase letters, digits, '-' and '.')\n");
  r = cli.run({"host-secret", "--namespace", "-sftp"}, "", {});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("gateway: --namespace '-sftp' is not a Kubernetes name"));
  r = cli.run({"host-secret", "--from-state"}, "", {});
  CHECK(r.code == 2);
  CHECK(r.err == "gateway: cannot read " + cli.state + "/host_keys/ssh_host_ed25519_key: No such file or directory\n");
  CHECK(r.out.empty());
  r = cli.run({"host-secret", "extra"}, "", {});
  CHECK(r.code == 2);
}
