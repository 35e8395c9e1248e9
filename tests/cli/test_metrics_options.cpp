// --metrics-listen and --metrics-file: off by default, read from every
// source like the other options, a bad value named with its source
// (test_metrics_serve.cpp: what serve and check make of them).
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
using gw::test::usage_error;

TEST_CASE("metrics are off unless asked for, from any source", "[cli][options][metrics]") {
  CleanSftpEnv clean;
  TempDir dir;
  Settings s = settings({"serve"});
  CHECK(s.metrics_listen.empty());
  CHECK(s.metrics_file.empty());
  CHECK(s.metrics_fd == -1);
  s = settings({"serve", "--metrics-listen", "127.0.0.1:9464", "--metrics-file", dir / "gw.prom"});
  CHECK(s.metrics_listen == "127.0.0.1:9464");
  CHECK(s.metrics_file == dir / "gw.prom");
  gw::test::write_file(dir / "gateway.conf", "metrics-listen = [::1]:9100\nmetrics-file = /var/lib/node/gw.prom\n");
  s = settings({"serve", "--config", dir / "gateway.conf"});
  CHECK(s.metrics_listen == "[::1]:9100");
  CHECK(s.metrics_file == "/var/lib/node/gw.prom");
  // A relative file is the worker's, which runs elsewhere: made absolute now.
  s = settings({"check", "--metrics-file", "gw.prom"});
  CHECK(s.metrics_file == (std::filesystem::current_path() / "gw.prom").string());
}

TEST_CASE("a bad metrics value is named with its source", "[cli][options][metrics]") {
  CleanSftpEnv clean;
  TempDir dir;
  CHECK(usage_error({"check", "--metrics-listen", "localhost:9464"}) ==
        "--metrics-listen: 'localhost:9464': the address must be a numeric IPv4 or IPv6 address");
  CHECK(usage_error({"check", "--metrics-listen", "127.0.0.1:0"}) ==
        "--metrics-listen: '127.0.0.1:0': the port must be 1 to 65535");
  CHECK(usage_error({"check", "--metrics-file", ""}) == "--metrics-file: '' is not a file name");
  gw::test::write_file(dir / "gateway.conf", "users = a:1000\nmetrics-listen = 9464\n");
  CHECK(usage_error({"check", "--config", dir / "gateway.conf"}) ==
        "gateway.conf line 2: '9464': expected ADDRESS:PORT (an IPv6 address in brackets)");
}

