// The real binary on bad input: exit code 2, nothing on stdout, and on
// stderr one line per problem naming where it came from.
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "scenario.hpp"
#include "gateway/options/options.hpp"
#include "support/catch.hpp"
#include "support/prerequisite.hpp"

using gw::test::Env;
using gw::test::RunResult;
using gw::test::TempDir;
using gw::test::lines;
using gw::test::run_gateway;

namespace {

// No backing folders needed: validation fails before anything is looked at.
RunResult check_env(const std::string& users, const std::string& volumes) {
  gw::test::require_sshd();  // else its absence is one more problem
  return run_gateway({"check", "--data-dir", "/nonexistent/data", "--volumes-dir", "/nonexistent/volumes"},
                     {{"SFTP_USERS", users}, {"SFTP_VOLUMES", volumes}});
}

struct BadInput {
  std::string users;
  std::string volumes;
  std::string source;  // the line must start with this
  std::string detail;  // and contain this
};

// One of each class of mistake the issue lists.
const std::vector<BadInput> bad_inputs{
    {"ryan:54321,Bad-Name:5", "", "SFTP_USERS item 2: 'Bad-Name:5'", "Bad-Name"},
    {"ryan:54321,sshd:5", "", "SFTP_USERS item 2: 'sshd:5'", "reserved"},
    {"ryan:54321,gary:0", "", "SFTP_USERS item 2: 'gary:0'", "uid"},
    {"ryan:54321,gary:1001:0", "", "SFTP_USERS item 2: 'gary:1001:0'", "gid"},
    {"ryan:54321,ryan:1001", "", "SFTP_USERS item 2: 'ryan:1001'", "ryan"},
    {"ryan:54321,gary:54321", "", "SFTP_USERS item 2: 'gary:54321'", "54321"},
    {"ryan:54321,gary:1001", "thttpd_files:ryan:web,music_stuff:gray:music", "SFTP_VOLUMES item 2: ", "gary"},
    {"ryan:54321", "a:ryan:web,b:ryan:web", "SFTP_VOLUMES item 2: 'b:ryan:web'", "web"},
    {"ryan:54321", "a:ryan:web,b:ryan:..", "SFTP_VOLUMES item 2: 'b:ryan:..'", ".."},
    {"ryan:54321", "a:ryan:web,b:ryan:", "SFTP_VOLUMES item 2: 'b:ryan:'", "mount"},
    {"ryan:54321", "a:ryan:web,_vol:ryan:x", "SFTP_VOLUMES item 2: '_vol:ryan:x'", "_vol"},
    {"ryan:54321", "a:ryan:web,b/../c:ryan:x", "SFTP_VOLUMES item 2: 'b/../c:ryan:x'", ".."},
    {"ryan:54321", "a:ryan:web,b:ryan:x:rox", "SFTP_VOLUMES item 2: 'b:ryan:x:rox'", "rox"},
    {"ryan:54321", "a:ryan:web,b:ryan:" + std::string(256, 'm'), "SFTP_VOLUMES item 2: ", "255"},
};

}  // namespace

TEST_CASE("each class of bad input exits 2 with a line naming its source", "[cli][errors]") {
  for (const BadInput& bad : bad_inputs) {
    const RunResult r = check_env(bad.users, bad.volumes);
    INFO("SFTP_USERS=" << bad.users << " SFTP_VOLUMES=" << bad.volumes << "\nstderr: " << r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    const auto err = lines(r.err);
    REQUIRE(!err.empty());
    CHECK_THAT(err.front(), Catch::StartsWith(bad.source) && Catch::Contains(bad.detail));
  }
}

TEST_CASE("every problem is reported in one run", "[cli][errors]") {
  const RunResult r = check_env("root:1,ryan:54321,ryan:2", "v:ryan:m,w:nobody:n,x:ryan:m,..:ryan:y");
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  const auto err = lines(r.err);
  for (const char* source : {"SFTP_USERS item 1: ", "SFTP_USERS item 3: ", "SFTP_VOLUMES item 2: ",
                             "SFTP_VOLUMES item 3: ", "SFTP_VOLUMES item 4: "}) {
    CHECK(std::any_of(err.begin(), err.end(), [&](const std::string& l) { return l.rfind(source, 0) == 0; }));
  }
  for (const std::string& line : err) CHECK_THAT(line, Catch::StartsWith("SFTP_"));  // nothing but problems
}

TEST_CASE("config file problems name the file and the real line", "[cli][errors]") {
  gw::test::require_sshd();
  const TempDir dir;
  gw::test::write_file(dir / "gateway.conf",
                       "# sftp gateway\n"                      // 1
                       "users = ryan:54321\n"                  // 2
                       "users = gary:1001\n"                   // 3
                       "\n"                                    // 4
                       "# volumes\n"                           // 5
                       "map = thttpd_files:ryan:web\n"         // 6
                       "map = music_stuff:gray:music\n"        // 7
                       "map = a:gary:x, b:root:y, c:gary:x\n"  // 8
                       "volumes-dir = /nonexistent\n");
  const RunResult r = run_gateway({"check", "--config", dir / "gateway.conf"});
  INFO(r.err);
  CHECK(r.code == 2);
  const auto err = lines(r.err);
  REQUIRE(err.size() == 3);
  CHECK_THAT(err[0], Catch::StartsWith("gateway.conf line 7: 'music_stuff:gray:music': ") && Catch::Contains("gary"));
  CHECK_THAT(err[1], Catch::StartsWith("gateway.conf line 8 item 2: 'b:root:y': "));
  CHECK_THAT(err[2], Catch::StartsWith("gateway.conf line 8 item 3: 'c:gary:x': "));
}

TEST_CASE("command line problems are numbered across repeated options", "[cli][errors]") {
  gw::test::require_sshd();
  const RunResult r = run_gateway({"check", "--users", "ryan:54321", "--map", "a:ryan:x", "--map", "b:ryan:y,c:nobody:z"});
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("--map item 3: 'c:nobody:z': "));
}

TEST_CASE("the highest source wins: bad lower sources are never read", "[cli][errors]") {
  const gw::test::SeedLayout seed;
  gw::test::write_file(seed.dir / "gateway.conf", "users = root:0\nmap = ..:x:y\n");
  const std::vector<std::string> args{"check", "--config", seed.dir / "gateway.conf", "--data-dir", seed.data,
                                      "--volumes-dir", seed.volumes};
  const Env env{{"SFTP_USERS", "ryan:54321"}, {"SFTP_VOLUMES", "thttpd_files:ryan:m"}};
  CHECK(run_gateway(args, env).code == 0);
  std::vector<std::string> with_cli = args;
  with_cli.insert(with_cli.end(), {"--users", "gary:1001", "--map", "music_stuff:gary:m"});
  CHECK(run_gateway(with_cli, {{"SFTP_USERS", "root:0"}, {"SFTP_VOLUMES", "bad"}}).code == 0);
  CHECK(run_gateway(args).code == 2);  // the file alone is bad
}

TEST_CASE("option errors: one line, exit 2, nothing on stdout", "[cli][errors]") {
  const TempDir dir;
  gw::test::write_file(dir / "gateway.conf", "users = ryan:54321\n\nvolumes = x\n");
  struct Case {
    std::vector<std::string> args;
    Env env;
    std::string message;
  };
  const std::vector<Case> cases{
      {{"check", "--bogus"}, {}, "gateway: unrecognised option '--bogus'"},
      {{"check", "--config", dir / "gateway.conf"}, {}, "gateway: gateway.conf line 3: unknown key 'volumes'"},
      {{"check", "--config", dir / "missing.conf"}, {}, "gateway: cannot read config file '" + dir / "missing.conf"},
      {{"check", "--port", "twenty"}, {}, "gateway: the argument ('twenty') for option '--port' is invalid"},
      {{"check"}, {{"SFTP_PORT", "99999"}}, "gateway: SFTP_PORT: 99999 is not a TCP port (1-65535)"},
      {{"check", "--cache-timeout", "soon"}, {}, "gateway: the argument ('soon') for option '--cache-timeout'"},
      {{"check", "extra"}, {}, "gateway: unexpected argument 'extra'"},
      {{"frobnicate"}, {}, "gateway: unknown command 'frobnicate'"},
      {{}, {}, "gateway: missing command"},
  };
  for (const Case& c : cases) {
    const RunResult r = run_gateway(c.args, c.env);
    INFO(c.message << "\nstderr: " << r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(lines(r.err).size() == 1);
    CHECK_THAT(r.err, Catch::StartsWith(c.message));
  }
}

TEST_CASE("help, version and reserved commands", "[cli]") {
  const RunResult help = run_gateway({"--help"});
  CHECK(help.code == 0);
  CHECK_THAT(help.out, Catch::StartsWith("Usage: gateway COMMAND"));
  const RunResult check_help = run_gateway({"check", "--help"});
  CHECK(check_help.code == 0);
  CHECK_THAT(check_help.out, Catch::Contains("--format") && Catch::Contains("--volumes-dir"));
  const RunResult version = run_gateway({"--version"});
  CHECK(version.code == 0);
  CHECK_THAT(version.out, Catch::StartsWith("gateway ") && Catch::EndsWith("\n"));
  // A reserved command that is not implemented yet: exit 1, one line.
  for (const char* reserved : {"keys", "reload", "status", "compose-override"}) {
    if (gw::gateway::is_implemented(*gw::gateway::find_command(reserved))) continue;
    const RunResult r = run_gateway({reserved});
    CHECK(r.code == 1);
    CHECK(r.err == "gateway: '" + std::string(reserved) + "' is not available in this build\n");
  }
}
