// `gateway status` shows the limited folders the worker recorded in
// <state-dir>/quota.json. Here the file is written by the test into a state
// folder no gateway serves (status then exits 1 and says the record is
// old); the record of a running gateway is the e2e tier's.
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "support/catch.hpp"
#include "support/prerequisite.hpp"

using gw::test::RunResult;
using gw::test::TempDir;

namespace {

const std::string recorded = R"({"folders": [
  {"folder": "thttpd_files/site", "mappings": ["ryan:web", "gary:site"], "bytes": 1288490188,
   "bytes_limit": 5368709120, "files": 4, "files_limit": 100, "counted": true, "counted_at": "2026-12-05T10:00:00Z"},
  {"folder": "~ryan", "mappings": ["ryan:~"], "bytes": 0, "bytes_limit": 1073741824, "files": 0,
   "files_limit": null, "counted": false, "counted_at": null}]}
)";

RunResult status(const TempDir& state, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"status", "--state-dir", state.path().string(), "--mountpoint", state / "view",
                                "--users", "ryan:54321"};
  args.insert(args.end(), extra.begin(), extra.end());
  return gw::test::run_gateway(args);
}

std::vector<std::string> quota_lines(const std::string& out) {
  std::vector<std::string> found;
  for (const std::string& line : gw::test::lines(out))
    if (line.rfind("quota", 0) == 0) found.push_back(line);
  return found;
}

}  // namespace

TEST_CASE("status shows each limited folder the worker recorded", "[cli][status]") {
  const TempDir state;
  gw::test::write_file(state / "quota.json", recorded);
  const RunResult r = status(state);
  INFO(r.out << r.err);
  CHECK(r.code == 1);  // no gateway serves with this state folder
  CHECK(quota_lines(r.out) == std::vector<std::string>{
                                  "quotas: as last recorded by a gateway that is not running",
                                  "quota thttpd_files/site (ryan:web, gary:site): bytes 1.1G of 5G (23%), files 4 of "
                                  "100 (4%)",
                                  "quota ~ryan (ryan:~): counting; limit quota=1G",
                              });
}

TEST_CASE("status --format json adds the percentages; bytes and files are null until counted", "[cli][status][json]") {
  gw::test::require_program("python3");
  const TempDir state;
  gw::test::write_file(state / "quota.json", recorded);
  const RunResult r = status(state, {"--format", "json"});
  INFO(r.out << r.err);
  CHECK(r.code == 1);
  const char* script = R"py(
import json, sys
d = json.load(sys.stdin)
print(repr(d["quota_problem"]))
for q in d["quotas"]:
    print(q["folder"], ",".join(q["mappings"]), q["bytes"], q["bytes_limit"], q["bytes_percent"], q["files"],
          q["files_limit"], q["files_percent"], q["counted"], repr(q["counted_at"]))
)py";
  const RunResult py = gw::test::run_program("/usr/bin/env", {"python3", "-c", script}, {}, r.out);
  INFO(py.err);
  REQUIRE(py.code == 0);
  CHECK(gw::test::lines(py.out) ==
        std::vector<std::string>{"''",
                                 "thttpd_files/site ryan:web,gary:site 1288490188 5368709120 23 4 100 4 True "
                                 "'2026-12-05T10:00:00Z'",
                                 "~ryan ryan:~ None 1073741824 None None None None False ''"});
}

TEST_CASE("status without quota.json has no quota section; a broken one is named", "[cli][status]") {
  gw::test::require_program("python3");
  const TempDir state;
  const RunResult text = status(state);
  CHECK(text.code == 1);
  CHECK(quota_lines(text.out).empty());
  const RunResult json = status(state, {"--format", "json"});
  CHECK(json.out.find("quota") == std::string::npos);
  gw::test::write_file(state / "quota.json", "{\"folders\": [{\"folder\": \"v\"}]}");
  const RunResult broken = status(state);
  CHECK(broken.code == 1);  // the record is advisory: it changes no exit code
  CHECK(quota_lines(broken.out) == std::vector<std::string>{
                                       "quotas: as last recorded by a gateway that is not running",
                                       "quotas: " + state / "quota.json" + ": no \"mappings\""});
}
