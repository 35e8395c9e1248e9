// The start-up banner names the version and every effective option.
#include "gateway/serve/banner.hpp"
#include "gateway/version.hpp"
#include "support/catch.hpp"

TEST_CASE("the banner shows the version and the effective options", "[cli][banner]") {
  gw::gateway::Settings s;
  s.command = gw::gateway::Command::serve;
  s.input.users = {{"ryan:54321", "SFTP_USERS item 1"}};
  s.paths = {"/d", "/v"};
  s.mountpoint = "/m";
  s.state_dir = "/s";
  s.port = 2222;
  s.cache_timeout = 0.5;
  s.log_level = "debug";
  const auto lines = gw::gateway::banner_lines(s);
  REQUIRE(!lines.empty());
  CHECK(lines.front() == "sftp-gateway " + std::string(gw::gateway::version()) + ": serve");
  std::string all;
  for (const auto& line : lines) all += line + "\n";
  CHECK_THAT(all, Catch::Contains("users: ryan:54321 (from SFTP_USERS item 1)"));
  CHECK_THAT(all, Catch::Contains("map: (none)"));
  CHECK_THAT(all, Catch::Contains("data-dir: /d") && Catch::Contains("volumes-dir: /v"));
  CHECK_THAT(all, Catch::Contains("mountpoint: /m") && Catch::Contains("state-dir: /s"));
  CHECK_THAT(all, Catch::Contains("port: 2222") && Catch::Contains("cache-timeout: 0.5s"));
  CHECK_THAT(all, Catch::Contains("log-level: debug") && Catch::Contains("config: (none)"));
  CHECK_THAT(all, Catch::Contains("home-quota: (none)\n") && Catch::Contains("home-files: (none)\n"));
  CHECK_THAT(all, Catch::Contains("umask: 0022\n") && Catch::Contains("quota-rescan: 300s\n"));
  CHECK_THAT(all, Catch::Contains("events: off\n"));
  s.defaults.home_limit.bytes = 3ull << 30;
  s.defaults.home_limit.files = 5000;
  s.defaults.umask = 027;
  s.quota_rescan = 0;
  all.clear();
  for (const auto& line : gw::gateway::banner_lines(s)) all += line + "\n";
  CHECK_THAT(all, Catch::Contains("home-quota: 3G\n") && Catch::Contains("home-files: 5000\n"));
  CHECK_THAT(all, Catch::Contains("umask: 0027\n") && Catch::Contains("quota-rescan: off\n"));
  s.events.urls = {"https://hooks.example/x?token=secret"};
  s.events.command = "/usr/local/bin/on-upload";
  s.defaults.events = 0x05;  // upload, rename
  all.clear();
  for (const auto& line : gw::gateway::banner_lines(s)) all += line + "\n";
  CHECK_THAT(all, Catch::Contains("events: 1 url(s), command /usr/local/bin/on-upload as nobody; kinds upload,rename; "
                                  "timeout 10s; parallel 4; spool limit 64M\n"));
  CHECK_THAT(all, !Catch::Contains("token"));
  CHECK(gw::gateway::version() == GATEWAY_EXPECTED_VERSION);
}
