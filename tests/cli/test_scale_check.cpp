// 100,000 users from one config file: `check` accepts them all and shows the
// tree it would serve, and a problem on the last line is named by its line.
// Correctness only; how long it takes is the benchmark's business
// (bench/run --full, scale group), but a parse that is quadratic in the
// number of lines does not finish within this tier's bound.
#include <fstream>

#include "cli_support.hpp"
#include "support/catch.hpp"
#include "support/prerequisite.hpp"

using gw::test::RunResult;
using gw::test::TempDir;

namespace {

constexpr int kUsers = 100000;
constexpr unsigned kUidBase = 200000;

std::string user_name(int i) {
  char name[16];
  std::snprintf(name, sizeof name, "u%06d", i);
  return name;
}

// kUsers `users =` lines (line i+1 is user i), then three mappings, for the
// first, middle and last users; `extra` goes last.
void write_config(const std::string& path, const std::string& extra = "") {
  std::ofstream out(path);
  for (int i = 0; i < kUsers; ++i) out << "users = " << user_name(i) << ':' << kUidBase + i << '\n';
  for (const int i : {0, kUsers / 2, kUsers - 1}) out << "map = v" << i << ':' << user_name(i) << ":m\n";
  out << extra;
  REQUIRE(out.good());
}

constexpr const char* kSummary = R"py(
import json, sys
d = json.load(sys.stdin)
print(d["ok"], len(d["users"]))
last = d["users"][-1]
print(last["name"], last["uid"], last["gid"])
for n in last["nodes"]:
    print(n["path"], n["kind"], n["stored"]["from"], n["stored"].get("uid"), n.get("backing", "-"))
)py";

}  // namespace

TEST_CASE("check takes 100,000 users from one config file", "[cli][check][scale][100k]") {
  gw::test::require_root();
  gw::test::require_sshd();
  const TempDir dir;
  const std::string data = dir / "data", volumes = dir / "volumes";
  gw::test::make_dir(data, 0755, 0, 0);
  gw::test::make_dir(volumes, 0755, 0, 0);
  for (const int i : {0, kUsers / 2, kUsers - 1})
    gw::test::make_dir(volumes + "/v" + std::to_string(i), 0755, kUidBase + i, kUidBase + i);
  const std::vector<std::string> args{"check", "--config", dir / "gateway.conf", "--data-dir", data, "--volumes-dir", volumes};

  write_config(dir / "gateway.conf");
  std::vector<std::string> json_args = args;
  json_args.insert(json_args.end(), {"--format", "json"});
  const RunResult r = gw::test::run_gateway(json_args);
  INFO(r.err.substr(0, 2000));
  REQUIRE(r.code == 0);
  const RunResult py = gw::test::run_program("/usr/bin/env", {"python3", "-c", kSummary}, {}, r.out);
  INFO(py.err);
  REQUIRE(py.code == 0);
  const std::string last = user_name(kUsers - 1), uid = std::to_string(kUidBase + kUsers - 1);
  CHECK(gw::test::lines(py.out) ==
        std::vector<std::string>{"True 100000", last + " " + uid + " " + uid,
                                 "data/ synthetic synthetic 0 -",
                                 "data/" + last + "-chroot/ synthetic synthetic 0 -",
                                 "data/" + last + "-chroot/" + last + "/ home user " + uid + " " + data + "/" + last,
                                 "data/" + last + "-chroot/" + last + "/m/ mount folder " + uid + " " + volumes + "/v" +
                                     std::to_string(kUsers - 1)});

  // A duplicate uid on the last line: named by that line, exit 2.
  write_config(dir / "gateway.conf", "users = extra:" + std::to_string(kUidBase) + "\n");
  const RunResult dup = gw::test::run_gateway(args);
  CHECK(dup.code == 2);
  const auto err = gw::test::lines(dup.err);
  REQUIRE_FALSE(err.empty());
  CHECK(err.front() == "gateway.conf line 100004: 'extra:" + std::to_string(kUidBase) +
                           "': duplicate uid " + std::to_string(kUidBase) + " (also used by u000000, gateway.conf line 1)");
}
