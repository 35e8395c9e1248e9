// `gateway check --format json`: a valid document (parsed by python3's json
// module) carrying the same content as the text table.
#include <algorithm>

#include "cli_support.hpp"
#include "scenario.hpp"
#include "support/catch.hpp"
#include "support/prerequisite.hpp"

using gw::test::RunResult;
using gw::test::SeedLayout;

namespace {

// Renders every node of the JSON report as the words of a text-table row,
// so the two formats can be compared word for word.
constexpr const char* json_as_rows = R"py(
import json, sys
d = json.load(sys.stdin)
assert d["ok"] is True, d
for u in d["users"]:
    print("user", u["name"], u["uid"], u["gid"])
    for n in u["nodes"]:
        p, s = n["presented"], n["stored"]
        stored = "%d:%d" % (s["uid"], s["gid"]) if "uid" in s else "?"
        access = {"synthetic": "-", "home": "rw"}.get(n["kind"]) or ",".join(n["options"])
        print(n["path"], p["name"], "%d:%d" % (p["uid"], p["gid"]), stored, "(%s)" % s["from"],
              n["mode"] or "missing", n["umask"] or "-", access, n.get("backing", "-"))
for w in d["warnings"]:
    print("warning:", w["subject"] + ":", w["message"])
)py";

// The text output reduced to the same shape: user lines and row words (the
// limits table is compared on its own).
std::vector<std::string> text_as_rows(const std::string& out) {
  std::vector<std::string> rows;
  bool in_limits = false;
  for (const std::string& line : gw::test::lines(out)) {
    in_limits = line == "limits (usage counted now)" || (in_limits && !line.empty());
    if (in_limits) continue;
    const auto w = gw::test::words(line);
    if (w.empty() || w.front() == "PATH" || w.front() == "ok:") continue;
    if (w.front() == "user") {
      rows.push_back("user " + w[1] + " " + w[3].substr(0, w[3].size() - 1) + " " + w[5].substr(0, w[5].size() - 1));
      continue;
    }
    std::string joined;
    for (const std::string& word : w) joined += (joined.empty() ? "" : " ") + word;
    rows.push_back(joined);
  }
  return rows;
}

std::vector<std::string> python_rows(const std::string& json) {
  const RunResult py = gw::test::run_program("/usr/bin/env", {"python3", "-c", json_as_rows}, {}, json);
  INFO(py.err);
  REQUIRE(py.code == 0);
  return gw::test::lines(py.out);
}

}  // namespace

TEST_CASE("check --format json parses and matches the text report", "[cli][check][json]") {
  gw::test::require_program("python3");
  const SeedLayout seed;
  gw::test::make_dir(seed.volumes + "/rootvol", 0755, 0, 0);
  const gw::test::Env env{{"SFTP_USERS", "ryan:54321,gary:1001"},
                          {"SFTP_VOLUMES", "thttpd_files:ryan:web:quota=1G,music_stuff:gary:music:ro,rootvol:gary:r:ro,"
                                           "rootvol:gary:o:owner=7:7:umask=0007"}};
  const RunResult text = seed.check(env);
  const RunResult json = seed.check(env, {"--format", "json"});
  INFO(text.out << json.out << json.err);
  REQUIRE(text.code == 0);
  REQUIRE(json.code == 0);
  CHECK(json.err.empty());
  const auto rows = python_rows(json.out);
  CHECK(rows == text_as_rows(text.out));
  CHECK(std::count(rows.begin(), rows.end(), "user ryan 54321 54321") == 1);
  CHECK(std::find(rows.begin(), rows.end(), "data/gary-chroot/gary/music/ gary 1001:1001 1001:1001 (folder) 0775 0022 ro " +
                                                seed.volumes + "/music_stuff") != rows.end());
  CHECK(std::find(rows.begin(), rows.end(), "data/gary-chroot/gary/o/ gary 1001:1001 7:7 (owner=) 0755 0007 rw,owner=7:7 " +
                                                seed.volumes + "/rootvol") != rows.end());
}

TEST_CASE("check --format json shows each limited folder with exact numbers", "[cli][check][json]") {
  gw::test::require_program("python3");
  const SeedLayout seed;
  gw::test::write_file(seed.volumes + "/thttpd_files/index.html", std::string(3000, 'x'));
  const RunResult json = seed.check({{"SFTP_USERS", "ryan:54321:quota=1G,gary:1001"},
                                     {"SFTP_VOLUMES", "thttpd_files:ryan:web:files=100,thttpd_files:gary:w"}},
                                    {"--format", "json"});
  INFO(json.out << json.err);
  REQUIRE(json.code == 0);
  const char* script = R"py(
import json, sys
for l in json.load(sys.stdin)["limits"]:
    print(l["folder"], ",".join(l["mappings"]), l["bytes"], l["bytes_limit"], l["files"], l["files_limit"],
          l["counted"], l["unreadable"], repr(l["problem"]), l["backing"])
)py";
  const RunResult py = gw::test::run_program("/usr/bin/env", {"python3", "-c", script}, {}, json.out);
  INFO(py.err);
  REQUIRE(py.code == 0);
  CHECK(gw::test::lines(py.out) ==
        std::vector<std::string>{"~ryan ryan:~ 0 1073741824 0 None True 0 '' " + seed.data + "/ryan",
                                 "thttpd_files ryan:web,gary:w 3000 None 1 100 True 0 '' " + seed.volumes +
                                     "/thttpd_files"});
}

TEST_CASE("check --format json reports problems as JSON too", "[cli][check][json]") {
  gw::test::require_program("python3");
  gw::test::require_sshd();
  const RunResult r = gw::test::run_gateway({"check", "--format", "json"},
                                            {{"SFTP_USERS", "ryan:54321,root:7"}, {"SFTP_VOLUMES", "v:ryan:m,w:gray:n"}});
  REQUIRE(r.code == 2);
  const char* script = R"py(
import json, sys
d = json.load(sys.stdin)
assert d["ok"] is False
for p in d["problems"]:
    print(p["source"])
)py";
  const RunResult py = gw::test::run_program("/usr/bin/env", {"python3", "-c", script}, {}, r.out);
  INFO(r.out << py.err);
  REQUIRE(py.code == 0);
  CHECK(gw::test::lines(py.out) == std::vector<std::string>{"SFTP_USERS item 2", "SFTP_VOLUMES item 2"});
  CHECK(gw::test::lines(r.err).size() == 2);  // and the same problems, one line each, on stderr
}
