// Where each setting comes from: command line over environment over config
// file over defaults, and the source label every users/map item carries.
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "option_support.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/options/options.hpp"
#include "support/catch.hpp"

using gw::gateway::Command;
using gw::gateway::Format;
using gw::gateway::Invocation;
using gw::gateway::Settings;
using gw::gateway::UsageError;
using gw::mapping::Item;
using gw::test::CleanSftpEnv;
using gw::test::EnvVar;
using gw::test::TempDir;
using gw::test::settings;
using gw::test::usage_error;
using gw::test::usage_lines;

namespace {

std::vector<std::string> texts(const std::vector<Item>& items) {
  std::vector<std::string> out;
  for (const Item& item : items) out.push_back(item.text);
  return out;
}

std::vector<std::string> sources(const std::vector<Item>& items) {
  std::vector<std::string> out;
  for (const Item& item : items) out.push_back(item.source);
  return out;
}

using Strings = std::vector<std::string>;

// Comments and blank lines shift the entries, so the line numbers below are
// the file's real ones, not the entries' positions.
const std::string demo_conf =
    "# demo instance\n"                           // 1
    "\n"                                          // 2
    "users = ryan:54321\n"                        // 3
    "  # gary shares the music\n"                 // 4
    "users = gary:1001, bob:1002   # two here\n"  // 5
    "map = thttpd_files:ryan:web\n"               // 6
    "map=music_stuff:gary:music,,music_stuff:bob:tunes:ro\n"  // 7
    "data-dir = /srv/data\n"                      // 8
    "port = 2201\n"                               // 9
    "log-level = debug\n";                        // 10

}  // namespace

TEST_CASE("defaults apply when no source gives a value", "[cli][options]") {
  CleanSftpEnv clean;
  const Settings s = settings({"check"});
  CHECK(s.command == Command::check);
  CHECK(s.input.users.empty());
  CHECK(s.input.rules.empty());
  CHECK(s.paths.data_dir == "/var/lib/sftp-gateway/data");
  CHECK(s.paths.volumes_dir == "/var/lib/sftp-gateway/volumes");
  CHECK(s.mountpoint == "/run/sftp-gateway/view");
  CHECK(s.state_dir == "/var/lib/sftp-gateway/state");
  CHECK(s.port == 2000);
  CHECK(s.cache_timeout == 1.0);
  CHECK(s.log_level == "info");
  CHECK(s.format == Format::text);
  CHECK(s.config_file.empty());
  CHECK(s.defaults == gw::mapping::Defaults{});
  CHECK(s.defaults.umask == 022u);
  CHECK(s.quota_rescan == 300);
}

TEST_CASE("every option is read from the command line", "[cli][options]") {
  CleanSftpEnv clean;
  const Settings s = settings({"check", "--users", "ryan:54321", "--map", "v:ryan:m", "--data-dir", "/d",
                               "--volumes-dir", "/v", "--mountpoint", "/m", "--state-dir", "/s", "--port=2222",
                               "--cache-timeout", "0.25", "--log-level", "warn", "--format", "json"});
  CHECK(texts(s.input.users) == Strings{"ryan:54321"});
  CHECK(texts(s.input.rules) == Strings{"v:ryan:m"});
  CHECK(s.paths.data_dir == "/d");
  CHECK(s.paths.volumes_dir == "/v");
  CHECK(s.mountpoint == "/m");
  CHECK(s.state_dir == "/s");
  CHECK(s.port == 2222);
  CHECK(s.cache_timeout == 0.25);
  CHECK(s.log_level == "warn");
  CHECK(s.format == Format::json);
}

TEST_CASE("config file items carry their real line numbers", "[cli][options]") {
  CleanSftpEnv clean;
  TempDir dir;
  gw::test::write_file(dir / "gateway.conf", demo_conf);
  const Settings s = settings({"check", "--config", dir / "gateway.conf"});
  CHECK(texts(s.input.users) == Strings{"ryan:54321", "gary:1001", "bob:1002"});
  CHECK(sources(s.input.users) ==
        Strings{"gateway.conf line 3", "gateway.conf line 5 item 1", "gateway.conf line 5 item 2"});
  CHECK(texts(s.input.rules) == Strings{"thttpd_files:ryan:web", "music_stuff:gary:music", "music_stuff:bob:tunes:ro"});
  CHECK(sources(s.input.rules) ==
        Strings{"gateway.conf line 6", "gateway.conf line 7 item 1", "gateway.conf line 7 item 2"});
  CHECK(s.paths.data_dir == "/srv/data");
  CHECK(s.port == 2201);
  CHECK(s.log_level == "debug");
  CHECK(s.config_file == dir / "gateway.conf");
}

TEST_CASE("the environment overrides the config file, the command line both", "[cli][options]") {
  CleanSftpEnv clean;
  TempDir dir;
  gw::test::write_file(dir / "gateway.conf", demo_conf);
  const std::string conf = dir / "gateway.conf";

  SECTION("environment over file") {
    EnvVar users("SFTP_USERS", "alice:2001,carol:2002");
    EnvVar volumes("SFTP_VOLUMES", "a:alice:x");
    EnvVar port("SFTP_PORT", "2300");
    const Settings s = settings({"check", "--config", conf});
    CHECK(texts(s.input.users) == Strings{"alice:2001", "carol:2002"});
    CHECK(sources(s.input.users) == Strings{"SFTP_USERS item 1", "SFTP_USERS item 2"});
    CHECK(sources(s.input.rules) == Strings{"SFTP_VOLUMES item 1"});
    CHECK(s.port == 2300);
    CHECK(s.paths.data_dir == "/srv/data");  // no variable for it: the file still counts
  }
  SECTION("command line over environment and file") {
    EnvVar users("SFTP_USERS", "alice:2001");
    EnvVar port("SFTP_PORT", "2300");
    const Settings s = settings({"check", "--config", conf, "--users", "dave:3001", "--port", "2400"});
    CHECK(texts(s.input.users) == Strings{"dave:3001"});
    CHECK(sources(s.input.users) == Strings{"--users item 1"});
    CHECK(texts(s.input.rules) == Strings{"thttpd_files:ryan:web", "music_stuff:gary:music", "music_stuff:bob:tunes:ro"});
    CHECK(s.port == 2400);
  }
  SECTION("a blank variable counts as unset") {
    EnvVar volumes("SFTP_VOLUMES", "  ");
    EnvVar port("SFTP_PORT", "");
    const Settings s = settings({"check", "--config", conf});
    CHECK(sources(s.input.rules).front() == "gateway.conf line 6");
    CHECK(s.port == 2201);
  }
  SECTION("other variables are ignored") {
    EnvVar data("SFTP_DATA_DIR", "/elsewhere");
    EnvVar level("LOG_LEVEL", "trace");
    const Settings s = settings({"check", "--config", conf});
    CHECK(s.paths.data_dir == "/srv/data");
    CHECK(s.log_level == "debug");
  }
}

TEST_CASE("quota defaults, umask and the rescan interval", "[cli][options]") {
  CleanSftpEnv clean;
  TempDir dir;
  const std::string conf = dir / "gateway.conf";
  SECTION("from the command line") {
    const Settings s = settings({"check", "--home-quota", "2G", "--home-files", "5000", "--umask", "027",
                                 "--quota-rescan", "5m"});
    CHECK(s.defaults.home_limit.bytes == 2ull << 30);
    CHECK(s.defaults.home_limit.files == 5000u);
    CHECK(s.defaults.umask == 027u);
    CHECK(s.quota_rescan == 300);
  }
  SECTION("from the config file, below the command line") {
    gw::test::write_file(conf, "home-quota = 512M\nhome-files = 9\numask = 0077\nquota-rescan = 1h\n");
    const Settings s = settings({"serve", "--config", conf, "--umask", "0002"});
    CHECK(s.defaults.home_limit.bytes == 512ull << 20);
    CHECK(s.defaults.home_limit.files == 9u);
    CHECK(s.defaults.umask == 02u);
    CHECK(s.quota_rescan == 3600);
  }
  SECTION("durations: seconds, or with s, m or h; 0 is off") {
    for (const auto& [text, seconds] : {std::pair{"300", 300.0}, std::pair{"300s", 300.0}, std::pair{"5m", 300.0},
                                        std::pair{"1h", 3600.0}, std::pair{"0", 0.0}, std::pair{"8784h", 31622400.0}}) {
      INFO(text);
      CHECK(settings({"check", "--quota-rescan", text}).quota_rescan == seconds);
    }
  }
  SECTION("bad values name the option, one line each") {
    const std::vector<std::string> lines = usage_lines({"check", "--home-quota", "5X", "--home-files", "0", "--umask",
                                                        "0888", "--quota-rescan", "soon"});
    CHECK(lines == Strings{
        "--home-quota: home-quota '5X' has an unknown suffix 'X'; give bytes with an optional suffix K, M, G or T "
        "(1024-based), e.g. 5G",
        "--home-files: home-files 0 would refuse every new file; leave it out for no limit",
        "--umask: umask '0888' is not a umask; give 3 or 4 octal digits from 000 to 0777, e.g. 0027",
        "--quota-rescan: quota-rescan 'soon' is not a duration; give seconds, or a number with s, m or h (300, 300s, "
        "5m, 1h); 0 turns it off"});
    for (const char* bad : {"-5", "5d", "1.5h", "", "h", "5 m"})
      CHECK_THAT(usage_error({"check", "--quota-rescan", bad}), Catch::Contains("is not a duration"));
    CHECK(usage_error({"check", "--quota-rescan", "8785h"}) ==
          "--quota-rescan: quota-rescan '8785h' is too long; at most 8784h (a year)");
    CHECK_THAT(usage_error({"check", "--quota-rescan", "99999999999999999999999"}), Catch::Contains("is too long"));
    CHECK_THAT(usage_error({"check", "--home-quota", "0"}), Catch::StartsWith("--home-quota: home-quota 0 would refuse"));
    CHECK_THAT(usage_error({"check", "--home-quota", ""}), Catch::StartsWith("--home-quota: home-quota is empty"));
    gw::test::write_file(conf, "users = a:1\n\nhome-quota = 1GB\numask = 22\n");
    CHECK(usage_lines({"serve", "--config", conf}) ==
          Strings{"gateway.conf line 3: home-quota '1GB' has an unknown suffix 'GB'; give bytes with an optional "
                  "suffix K, M, G or T (1024-based), e.g. 5G",
                  "gateway.conf line 4: umask '22' is not a umask; give 3 or 4 octal digits from 000 to 0777, e.g. "
                  "0027"});
  }
}

TEST_CASE("command line items are numbered across repeated options", "[cli][options]") {
  CleanSftpEnv clean;
  const Settings s = settings({"check", "--map", "a:ryan:x, b:ryan:y", "--users", "ryan:1", "--map=c:ryan:z"});
  CHECK(texts(s.input.rules) == Strings{"a:ryan:x", "b:ryan:y", "c:ryan:z"});
  CHECK(sources(s.input.rules) == Strings{"--map item 1", "--map item 2", "--map item 3"});
}

TEST_CASE("lists are taken whole from the highest source, never merged", "[cli][options]") {
  CleanSftpEnv clean;
  TempDir dir;
  gw::test::write_file(dir / "gateway.conf", demo_conf);
  EnvVar users("SFTP_USERS", "alice:2001");
  const Settings s = settings({"check", "--config", dir / "gateway.conf"});
  CHECK(texts(s.input.users) == Strings{"alice:2001"});  // none of the file's three
  CHECK(s.input.rules.size() == 3);                      // map is not in the environment
}

TEST_CASE("every bad line of a config file is reported in one run, in line order", "[cli][options]") {
  CleanSftpEnv clean;
  TempDir dir;
  const std::string conf = dir / "gateway.conf";
  gw::test::write_file(conf,
                       "users = a:1\n"                // 1
                       "port = abc\n"                 // 2: not a number
                       "threads = 0\n"                // 3: out of range
                       "bogus = 1\n"                  // 4: unknown key
                       "nonsense\n"                   // 5: not key = value
                       "cache-timeout = -1\n"         // 6: out of range
                       "log-level = \x1b[31mloud\n"   // 7: not a level, with a control byte
                       "openssh-version = nine\n"     // 8: not a version
                       "port = 5\n");                 // 9: fine (the bad one was left out)
  for (const char* command : {"check", "serve"}) {
    INFO(command);
    const std::vector<std::string> lines = usage_lines({command, "--config", conf});
    REQUIRE(lines.size() == 7);
    for (std::size_t i = 0; i < lines.size(); ++i)
      CHECK_THAT(lines[i], Catch::StartsWith("gateway.conf line " + std::to_string(i + 2) + ": "));
    CHECK_THAT(lines[0], Catch::EndsWith("the argument ('abc') for option 'port' is invalid"));
    CHECK_THAT(lines[5], Catch::Contains("'\\x1b[31mloud' is not a valid log-level"));
    CHECK_THAT(lines[6], Catch::Contains("'nine' is not a version"));
  }
  // The command line and the environment are named too, before the file.
  EnvVar port("SFTP_PORT", "0");
  const std::vector<std::string> lines = usage_lines({"check", "--config", conf, "--threads", "x", "--users", "b:2"});
  REQUIRE(lines.size() >= 3);
  CHECK(lines[0] == "the argument ('x') for option '--threads' is invalid");
  CHECK_THAT(lines[1], Catch::StartsWith("SFTP_PORT: 0 is not a TCP port"));
  CHECK_THAT(lines[2], Catch::StartsWith("gateway.conf line "));
}

TEST_CASE("option errors name their source", "[cli][options]") {
  CleanSftpEnv clean;
  TempDir dir;
  const std::string conf = dir / "gateway.conf";
  CHECK_THAT(usage_error({"check", "--bogus"}), Catch::Contains("--bogus"));
  CHECK_THAT(usage_error({"check", "stray"}), Catch::Contains("'stray'"));
  CHECK_THAT(usage_error({"check", "--por", "22"}), Catch::Contains("--por"));  // no guessing
  CHECK_THAT(usage_error({"check", "--port", "x"}), Catch::Contains("--port"));
  CHECK_THAT(usage_error({"check", "--port", "70000"}), Catch::Contains("--port: 70000"));
  CHECK_THAT(usage_error({"check", "--port", "1", "--port", "2"}), Catch::Contains("more than once"));
  CHECK_THAT(usage_error({"check", "--cache-timeout", "-1"}), Catch::Contains("--cache-timeout"));
  CHECK_THAT(usage_error({"check", "--cache-timeout", "nan"}), Catch::Contains("--cache-timeout"));
  CHECK_THAT(usage_error({"check", "--log-level", "loud"}), Catch::Contains("'loud'"));
  CHECK_THAT(usage_error({"check", "--format", "xml"}), Catch::Contains("'xml'"));
  CHECK_THAT(usage_error({"serve", "--format", "json"}), Catch::Contains("--format"));
  CHECK_THAT(usage_error({"check", "--data-dir", ""}), Catch::Contains("data-dir"));
  CHECK_THAT(usage_error({"check", "--config", dir / "missing.conf"}), Catch::Contains("missing.conf"));
  CHECK_THAT(usage_error({"check", "--config", dir.path().string()}), Catch::Contains("directory"));
  {
    EnvVar port("SFTP_PORT", "abc");
    CHECK_THAT(usage_error({"check"}), Catch::StartsWith("SFTP_PORT: "));
  }
  {
    EnvVar port("SFTP_PORT", "0");
    CHECK_THAT(usage_error({"check"}), Catch::StartsWith("SFTP_PORT: 0 "));
  }
  gw::test::write_file(conf, "# x\nusers = a:1\n\nbogus = 1\n");
  CHECK_THAT(usage_error({"check", "--config", conf}),
             Catch::StartsWith("gateway.conf line 4: unknown key 'bogus' (known keys: users, map, data-dir, "
                               "volumes-dir, mountpoint, state-dir, authorized-keys-dir, host-keys-dir, port, cache-timeout, log-level"));
  gw::test::write_file(conf, "format = json\n");  // command line only
  CHECK_THAT(usage_error({"check", "--config", conf}), Catch::StartsWith("gateway.conf line 1: unknown key 'format'"));
  gw::test::write_file(conf, "port = 2\n# c\nport = 3\n");
  CHECK_THAT(usage_error({"check", "--config", conf}), Catch::StartsWith("gateway.conf line 3: "));
  gw::test::write_file(conf, "\n\nport = many\n");
  CHECK_THAT(usage_error({"check", "--config", conf}), Catch::StartsWith("gateway.conf line 3: "));
  gw::test::write_file(conf, "users = a:1\njust words\n");
  CHECK_THAT(usage_error({"check", "--config", conf}), Catch::StartsWith("gateway.conf line 2: "));
  gw::test::write_file(conf, "[sftp]\nusers = a:1\n");
  CHECK_THAT(usage_error({"check", "--config", conf}), Catch::StartsWith("gateway.conf line 1: "));
}

TEST_CASE("a bad value in a lower source is not read once a higher one wins", "[cli][options]") {
  CleanSftpEnv clean;
  TempDir dir;
  gw::test::write_file(dir / "gateway.conf", "port = many\n");
  CHECK(settings({"check", "--config", dir / "gateway.conf", "--port", "2001"}).port == 2001);
}

TEST_CASE("commands, help and version", "[cli][options]") {
  CleanSftpEnv clean;
  CHECK(settings({"serve"}).command == Command::serve);
  const Invocation help = gw::gateway::parse_invocation({"check", "--help"});
  CHECK(help.action == Invocation::Action::print);
  CHECK_THAT(help.text, Catch::Contains("--format") && Catch::Contains("--cache-timeout"));
  CHECK_THAT(gw::gateway::parse_invocation({"--help"}).text, Catch::Contains("check"));
  CHECK_THAT(gw::gateway::parse_invocation({"--version"}).text, Catch::StartsWith("gateway "));
  CHECK_THAT(usage_error({}), Catch::Contains("missing command"));
  CHECK_THAT(usage_error({"frobnicate"}), Catch::Contains("'frobnicate'"));
  CHECK_THAT(usage_error({"--users", "a:1", "check"}), Catch::Contains("command comes first"));
  // Reserved names not implemented yet end with exit code 1, not a usage error.
  for (const char* reserved : {"keys", "reload", "status", "compose-override"}) {
    const auto command = gw::gateway::find_command(reserved);
    REQUIRE(command);
    if (gw::gateway::is_implemented(*command)) continue;
    try {
      gw::gateway::parse_invocation({reserved});
      FAIL("accepted " << reserved);
    } catch (const gw::gateway::ExitError& e) {
      CHECK(e.code() == gw::gateway::exit_code::failure);
      CHECK_THAT(e.what(), Catch::Contains("not available"));
    }
  }
}
