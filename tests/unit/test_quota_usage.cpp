// What `gateway status` reads and shows of the limited folders: the worker's
// <state-dir>/quota.json parsed (and refused when it is not what the worker
// writes), and usage against a limit put in words.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "gateway/quota_text.hpp"
#include "gateway/serve/quota_usage.hpp"
#include "support/catch.hpp"

using gw::gateway::FolderUsage;
using gw::gateway::QuotaUsage;
using gw::gateway::parse_quota_usage;

namespace {

// The example of the format's description (QUOTA.md), and a home not yet counted.
const std::string example = R"({"folders": [{"folder": "thttpd_files/site", "mappings": ["ryan:web"], "bytes": 123,
  "bytes_limit": 5368709120, "files": 4, "files_limit": null, "counted": true,
  "counted_at": "2026-12-05T10:00:00Z"},
  {"folder": "~ryan", "mappings": ["ryan:~", "x\u00fc"], "bytes": 0, "bytes_limit": null, "files": 0,
   "files_limit": 9223372036854775807, "counted": false, "counted_at": null}]})";

std::string problem_of(const std::string& json) {
  const QuotaUsage usage = parse_quota_usage(json);
  CHECK(usage.folders.empty());
  return usage.problem;
}

// The example with one field's value replaced.
std::string with(const std::string& field, const std::string& value) {
  std::string json = example;
  const std::size_t at = json.find("\"" + field + "\": ");
  REQUIRE(at != std::string::npos);
  const std::size_t start = at + field.size() + 4;
  const std::size_t end = json.find_first_of(",}", start);
  return json.replace(start, end - start, value);
}

}  // namespace

TEST_CASE("quota.json: every folder with its limits, usage and count state", "[status][quota]") {
  const QuotaUsage usage = parse_quota_usage(example);
  INFO(usage.problem);
  REQUIRE(usage.problem.empty());
  REQUIRE(usage.folders.size() == 2);
  const FolderUsage& site = usage.folders[0];
  CHECK(site.folder == "thttpd_files/site");
  CHECK(site.mappings == std::vector<std::string>{"ryan:web"});
  CHECK(site.bytes == 123);
  CHECK(site.bytes_limit == 5368709120u);
  CHECK(site.files == 4);
  CHECK_FALSE(site.files_limit);
  CHECK(site.counted);
  CHECK(site.counted_at == "2026-12-05T10:00:00Z");
  const FolderUsage& home = usage.folders[1];
  CHECK(home.folder == "~ryan");
  CHECK(home.mappings == std::vector<std::string>{"ryan:~", "x\xc3\xbc"});
  CHECK_FALSE(home.bytes_limit);
  CHECK(home.files_limit == 9223372036854775807u);
  CHECK_FALSE(home.counted);
  CHECK(home.counted_at.empty());
  // No limited folders: an empty list, no problem.
  const QuotaUsage none = parse_quota_usage(R"({"folders": []})");
  CHECK(none.problem.empty());
  CHECK(none.folders.empty());
}

TEST_CASE("quota.json that is not what the worker writes is a problem, not a guess", "[status][quota]") {
  CHECK_THAT(problem_of("garbage"), Catch::StartsWith("not JSON: "));
  CHECK_THAT(problem_of(example.substr(0, example.size() / 2)), Catch::StartsWith("not JSON: "));
  CHECK(problem_of("{}") == "no \"folders\"");
  CHECK(problem_of(R"({"folders": 3})") == "\"folders\" is not a list");
  CHECK(problem_of(R"({"folders": {"a": 1}})") == "\"folders\" is not a list");
  CHECK(problem_of(with("bytes", "-1")) == "\"bytes\" is not a count: -1");
  CHECK(problem_of(with("bytes", "1.5")) == "\"bytes\" is not a count: 1.5");
  CHECK(problem_of(with("bytes", "null")) == "\"bytes\" is not a count: null");
  CHECK(problem_of(with("files", "123456789012345678901")) == "\"files\" is not a count: 123456789012345678901");
  CHECK(problem_of(with("bytes_limit", "\"5G\"")) == "\"bytes_limit\" is not a count: 5G");
  CHECK(problem_of(with("counted", "1")) == "\"counted\" is not true or false");
  CHECK(problem_of(with("mappings", "[{\"a\": 1}]")) == "a mapping is not a name");
  CHECK(problem_of(with("folder", "{\"a\": 1}")) == "\"folder\" is not a value");
  CHECK(problem_of(R"({"folders": [{"folder": "v"}]})") == "no \"mappings\"");
}

TEST_CASE("quota.json is read from the state folder; none is no quota section", "[status][quota]") {
  const gw::test::TempDir state;
  CHECK_FALSE(gw::gateway::read_quota_usage(state.path().string()));
  gw::test::write_file(state / "quota.json", example);
  const auto usage = gw::gateway::read_quota_usage(state.path().string());
  REQUIRE(usage);
  CHECK(usage->problem.empty());
  CHECK(usage->folders.size() == 2);
  gw::test::write_file(state / "quota.json", "{\"folders\": 1}");
  CHECK(gw::gateway::read_quota_usage(state.path().string())->problem ==
        state / "quota.json" + ": \"folders\" is not a list");
  std::filesystem::remove(state / "quota.json");
  REQUIRE(::mkdir((state / "quota.json").c_str(), 0700) == 0);
  CHECK(gw::gateway::read_quota_usage(state.path().string())->problem ==
        "cannot read " + state / "quota.json" + ": Is a directory");
}

TEST_CASE("usage against a limit in words", "[status][quota]") {
  using gw::gateway::bytes_usage;
  using gw::gateway::files_usage;
  using gw::gateway::human_size;
  CHECK(human_size(0) == "0");
  CHECK(human_size(1023) == "1023");
  CHECK(human_size(1024) == "1K");
  CHECK(human_size(1536) == "1.5K");
  CHECK(human_size(2047) == "1.9K");  // cut, never rounded up
  CHECK(human_size(15ull << 20) == "15M");
  CHECK(human_size((15ull << 20) + 1) == "15M");
  CHECK(human_size(5ull << 30) == "5G");
  CHECK(human_size(1023ull << 40) == "1023T");
  CHECK(human_size(3ull << 50) == "3P");
  CHECK(human_size(UINT64_MAX) == "15E");
  CHECK(bytes_usage(1288490188, 5ull << 30) == "1.1G of 5G (23%)");
  CHECK(bytes_usage(1536, std::nullopt) == "1.5K");
  CHECK(bytes_usage(6ull << 30, 5ull << 30) == "6G of 5G (120%)");  // written behind the gateway's back
  CHECK(bytes_usage(9223372036854775807u, 9223372036854775807u) == "7.9E of 9223372036854775807 (100%)");
  CHECK(files_usage(40, 100) == "40 of 100 (40%)");
  CHECK(files_usage(99, 100) == "99 of 100 (99%)");
  CHECK(files_usage(40, std::nullopt) == "40");
}
