// `gateway status` shows how many events each sink has not had yet: the
// lines after its cursor in <state-dir>/events. The spool is written here
// by the test into a state folder no gateway serves.
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "support/catch.hpp"
#include "support/prerequisite.hpp"

using gw::test::RunResult;
using gw::test::TempDir;

namespace {

RunResult status(const TempDir& state, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"status", "--state-dir", state.path().string(), "--mountpoint", state / "view",
                                "--users", "ryan:54321"};
  args.insert(args.end(), extra.begin(), extra.end());
  return gw::test::run_gateway(args);
}

std::vector<std::string> event_lines(const std::string& out) {
  std::vector<std::string> found;
  for (const std::string& line : gw::test::lines(out))
    if (line.rfind("events", 0) == 0) found.push_back(line);
  return found;
}

const std::string kLine = R"({"id":"0123456789abcdef-1","kind":"upload","mapping":"ryan:web"})" "\n";

}  // namespace

TEST_CASE("status shows each sink's pending events", "[cli][status][events]") {
  gw::test::require_program("python3");
  const TempDir state;
  CHECK(event_lines(status(state).out).empty());  // no spool: no line
  gw::test::make_dir(state / "events", 0700, 0, 0);
  gw::test::write_file(state / "events/00000000000000000001.jsonl", kLine + kLine + kLine);
  gw::test::write_file(state / "events/00000000000000000002.jsonl", kLine);
  gw::test::write_file(state / "events/command.cursor", "1 " + std::to_string(kLine.size()) + "\n");
  gw::test::write_file(state / "events/url-0123456789ab.cursor", "2 0\n");
  const RunResult text = status(state);
  INFO(text.out << text.err);
  CHECK(text.code == 1);  // no gateway serves with this state folder
  CHECK(event_lines(text.out) ==
        std::vector<std::string>{"events for command: 3 pending", "events for url-0123456789ab: 1 pending"});
  const RunResult json = status(state, {"--format", "json"});
  const char* script = R"py(
import json, sys
for e in json.load(sys.stdin)["events"]:
    print(e["sink"], e["pending"])
)py";
  const RunResult py = gw::test::run_program("/usr/bin/env", {"python3", "-c", script}, {}, json.out);
  INFO(py.err);
  CHECK(gw::test::lines(py.out) == std::vector<std::string>{"command 3", "url-0123456789ab 1"});
}
