// The --event-* options: off by default, read from every source like the
// others, each bad value one line naming its option (test_check_serve.cpp:
// check and serve refuse them alike). The secret is read and the command's
// user looked up by check and serve's supervisor, never by the worker.
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "option_support.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/options/options.hpp"
#include "support/catch.hpp"

using gw::gateway::Settings;
using gw::gateway::UsageError;
using gw::test::CleanSftpEnv;
using gw::test::TempDir;
using gw::test::settings;

namespace {

// The one line a bad value is refused with.
std::string usage_error(const std::vector<std::string>& args) {
  const auto lines = gw::test::usage_lines(args);
  CHECK(lines.size() == 1);
  return lines.empty() ? "" : lines.front();
}

}  // namespace

TEST_CASE("events are off unless a sink is given; the defaults", "[cli][options][events]") {
  CleanSftpEnv clean;
  const Settings s = settings({"check"});
  CHECK(s.events.sinks() == 0);
  CHECK(s.events.urls.empty());
  CHECK(s.events.command.empty());
  CHECK(s.events.command_user == "nobody");
  CHECK(s.events.timeout == 10);
  CHECK(s.events.parallel == 4);
  CHECK(s.events.spool_limit == 64u << 20);
  CHECK(s.defaults.events == 0x1f);  // every kind
}

TEST_CASE("event options come from every source; the secret is read whole", "[cli][options][events]") {
  CleanSftpEnv clean;
  TempDir dir;
  gw::test::write_file(dir / "secret", "s3cr3t value\n");
  Settings s = settings({"check", "--event-url", "http://127.0.0.1:8080/hook", "--event-url", "HTTPS://hooks.example/x?a=1",
                         "--event-secret-file", dir / "secret", "--event-command", "/usr/bin/true",
                         "--event-command-user", "65000"});
  CHECK(s.events.urls == std::vector<std::string>{"http://127.0.0.1:8080/hook", "HTTPS://hooks.example/x?a=1"});
  CHECK(s.events.secret == "s3cr3t value");  // the trailing newline stripped, nothing else
  CHECK(s.events.command == "/usr/bin/true");
  CHECK(s.events.command_uid == 65000);  // a uid without an account: its own number as group
  CHECK(s.events.command_gid == 65000);
  CHECK(s.events.sinks() == 3);
  const Settings nobody = settings({"check", "--event-command", "/usr/bin/true"});
  CHECK(nobody.events.command_uid == 65534);

  gw::test::write_file(dir / "gateway.conf",
                       "event-url = https://a.example/1\nevent-secret-file = " + dir / "secret" +
                           "\nevent-timeout = 2.5\nevent-parallel = 16\nevent-kinds = upload,remove\n"
                           "event-spool-limit = 10M\n");
  s = settings({"serve", "--config", dir / "gateway.conf", "--event-parallel", "1"});
  CHECK(s.events.urls == std::vector<std::string>{"https://a.example/1"});
  CHECK(s.events.secret == "s3cr3t value");
  CHECK(s.events.timeout == 2.5);
  CHECK(s.events.parallel == 1);  // the command line over the file
  CHECK(s.defaults.events == 0x03);  // upload and remove
  CHECK(s.events.spool_limit == 10u << 20);
}

TEST_CASE("the worker never reads the event secret", "[cli][options][events]") {
  CleanSftpEnv clean;
  TempDir dir;
  const std::vector<std::string> args{"--event-url", "http://127.0.0.1:9/h", "--event-secret-file", dir / "secret"};
  std::vector<std::string> worker{"serve", "--worker-fd=3"};
  worker.insert(worker.end(), args.begin(), args.end());
  gw::test::write_file(dir / "secret", "k\n");
  CHECK(settings(worker).events.secret.empty());
  CHECK(settings(worker).events.urls.size() == 1);
  std::vector<std::string> supervisor{"serve"};
  supervisor.insert(supervisor.end(), args.begin(), args.end());
  CHECK(settings(supervisor).events.secret == "k");
  // Nor do the commands that deliver nothing.
  ::chmod((dir / "secret").c_str(), 0);
  std::filesystem::remove(dir / "secret");
  std::vector<std::string> status{"status"};
  status.insert(status.end(), args.begin(), args.end());
  CHECK(settings(status).events.urls.size() == 1);
  CHECK(settings(worker).events.urls.size() == 1);
  std::vector<std::string> check{"check"};
  check.insert(check.end(), args.begin(), args.end());
  CHECK(usage_error(check) == "--event-secret-file: cannot read '" + dir / "secret" + "': No such file or directory");
}

TEST_CASE("a bad event option is one line naming it", "[cli][options][events]") {
  CleanSftpEnv clean;
  TempDir dir;
  gw::test::write_file(dir / "secret", "k");
  gw::test::write_file(dir / "empty", "\n\n");
  gw::test::write_file(dir / "script", "#!/bin/sh\n");
  ::chmod((dir / "script").c_str(), 0744);  // not for nobody
  const std::string secret = dir / "secret";
  const auto url = [&](std::vector<std::string> more) {
    std::vector<std::string> args{"check", "--event-secret-file", secret};
    args.insert(args.end(), more.begin(), more.end());
    return usage_error(args);
  };
  CHECK(url({"--event-url", "ftp://x/y"}) == "--event-url: 'ftp://x/y' is not an http:// or https:// URL");
  CHECK(url({"--event-url", "http:///x"}) == "--event-url: 'http:///x' has no host");
  CHECK(url({"--event-url", "http://a b/"}) == "--event-url: 'http://a b/' has a space or a control character");
  CHECK(url({"--event-url", "http://a/", "--event-url", "http://a/"}) == "--event-url: 'http://a/' is given twice");
  std::vector<std::string> nine;
  for (int i = 0; i < 9; ++i) nine.insert(nine.end(), {"--event-url", "http://h/" + std::to_string(i)});
  CHECK(url(nine) == "--event-url: at most 8 sinks (each --event-url and the --event-command); 9 given");
  CHECK(usage_error({"check", "--event-url", "http://h/"}) ==
        "--event-url: needs --event-secret-file (the key each delivery is signed with)");
  CHECK(usage_error({"check", "--event-url", "http://h/", "--event-secret-file", dir / "empty"}) ==
        "--event-secret-file: '" + dir / "empty" + "' is empty");
  CHECK(usage_error({"check", "--event-url", "http://h/", "--event-secret-file", dir.path().string()}) ==
        "--event-secret-file: '" + dir.path().string() + "' is not a regular file");
  CHECK(usage_error({"check", "--event-command", "script"}) == "--event-command: 'script' is not an absolute path");
  CHECK(usage_error({"check", "--event-command", dir / "nosuch"}) ==
        "--event-command: cannot use '" + dir / "nosuch" + "': No such file or directory");
  CHECK(usage_error({"check", "--event-command", dir.path().string()}) ==
        "--event-command: '" + dir.path().string() + "' is not a regular file");
  CHECK(usage_error({"check", "--event-command", dir / "script"}) ==
        "--event-command: '" + dir / "script" + "' is not executable by uid 65534");
  CHECK(usage_error({"check", "--event-command", "/usr/bin/true", "--event-command-user", "nosuchuser"}) ==
        "--event-command-user: no such user 'nosuchuser'");
  CHECK(usage_error({"check", "--event-command", "/usr/bin/true", "--event-command-user", "root"}) ==
        "--event-command-user: 'root' is root; the command runs as an unprivileged user");
  CHECK(usage_error({"check", "--event-command", "/usr/bin/true", "--event-command-user", "0"}) ==
        "--event-command-user: '0' is root; the command runs as an unprivileged user");
  CHECK(usage_error({"check", "--event-timeout", "0"}) ==
        "--event-timeout: event-timeout must be more than 0 and at most 3600 seconds");
  CHECK(usage_error({"check", "--event-timeout", "soon"}) ==
        "the argument ('soon') for option '--event-timeout' is invalid");
  CHECK(usage_error({"check", "--event-parallel", "65"}) == "--event-parallel: event-parallel must be 1 to 64");
  CHECK(usage_error({"check", "--event-parallel", "0"}) == "--event-parallel: event-parallel must be 1 to 64");
  CHECK(usage_error({"check", "--event-kinds", "upload,bogus"}) ==
        "--event-kinds: event-kinds 'upload,bogus' names an unknown kind 'bogus'; give kinds joined by ',' from "
        "upload, remove, rename, mkdir, refusal, or none");
  CHECK(usage_error({"check", "--event-kinds", ""}) ==
        "--event-kinds: event-kinds is empty; give kinds joined by ',' from upload, remove, rename, mkdir, "
        "refusal, or none");
  CHECK(usage_error({"check", "--event-spool-limit", "512K"}) ==
        "--event-spool-limit: event-spool-limit must be at least 1M (one segment)");
  CHECK_THAT(usage_error({"check", "--event-spool-limit", "5X"}), Catch::StartsWith("--event-spool-limit: event-spool-limit '5X'"));
  gw::test::write_file(dir / "gateway.conf", "users = a:1000\nevent-parallel = 100\n");
  CHECK(usage_error({"check", "--config", dir / "gateway.conf"}) ==
        "gateway.conf line 2: event-parallel must be 1 to 64");
}
