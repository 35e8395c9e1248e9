// The event spool on temp folders: the worker's writer (one line per event,
// ids, segments, the size limit and what it drops) and a sink's reader
// (spool order, a restart, torn and foreign lines, cursors).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "events_support.hpp"
#include "gateway/events/spool_reader.hpp"
#include "support/catch.hpp"

using gw::fs::EventKind;
using gw::gateway::open_spool;
using gw::gateway::SpooledLine;
using gw::gateway::SpoolLimits;
using gw::gateway::SpoolPosition;
using gw::gateway::SpoolReader;
using gw::gateway::SpoolWriter;
using gw::test::TempDir;
using gw::test::upload;

namespace {

std::vector<std::string> ids(const std::vector<SpooledLine>& lines) {
  std::vector<std::string> out;
  for (const SpooledLine& l : lines) out.push_back(l.event.id);
  return out;
}

std::vector<std::string> paths(const std::vector<SpooledLine>& lines) {
  std::vector<std::string> out;
  for (const SpooledLine& l : lines) out.push_back(nlohmann::json::parse(l.event.json).at("volume_path"));
  return out;
}

std::vector<std::string> numbered(const std::string& stem, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(stem + std::to_string(i));
  return out;
}

std::string id_prefix(const std::string& id) { return id.substr(0, id.find('-')); }

void append(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
}

std::string event_line(const std::string& id, const std::string& mapping) {
  return R"({"id":")" + id + R"(","kind":"upload","mapping":")" + mapping + "\"}\n";
}

}  // namespace

TEST_CASE("the writer appends one JSON line per event, which the reader gives back in order", "[events][spool]") {
  TempDir state;
  SpoolWriter writer(state.path().string(), SpoolLimits{});
  for (int i = 1; i <= 100; ++i) writer.record(upload(i % 3 ? "ryan:web" : "ryan:docs", "f" + std::to_string(i)));
  CHECK(writer.spooled(EventKind::upload) == 100);
  CHECK(writer.spooled(EventKind::remove) == 0);
  CHECK(gw::test::mode_of(gw::test::spool_of(state)) == 0700);
  CHECK(gw::test::mode_of(gw::test::segment_file(state, 1)) == 0600);

  const auto spool = open_spool(state.path().string());
  SpoolReader reader(spool.get(), SpoolPosition{});
  const std::vector<SpooledLine> read = reader.read(1000);
  REQUIRE(read.size() == 100);
  CHECK(paths(read) == numbered("f", 1, 100));
  // One prefix for the writer, then its counter: unique and in spool order.
  const std::string prefix = id_prefix(read[0].event.id);
  CHECK(prefix.size() == 16);
  CHECK(ids(read) == numbered(prefix + "-", 1, 100));
  const nlohmann::json first = nlohmann::json::parse(read[0].event.json);
  CHECK(first.at("kind") == "upload");
  CHECK(first.at("mapping") == "ryan:web");
  CHECK(read[0].event.mapping == "ryan:web");
  CHECK(read[0].event.kind == "upload");
  CHECK(read[2].event.mapping == "ryan:docs");
  const std::string time = first.at("time");
  CHECK(time.size() == 24);  // 2026-12-05T13:00:00.123Z
  CHECK(time[10] == 'T');
  CHECK(time.back() == 'Z');
  // Each line's place: one after the other, the last ending at the file's end.
  CHECK(read[0].start == SpoolPosition{1, 0});
  for (std::size_t i = 1; i < read.size(); ++i) CHECK(read[i].start == read[i - 1].end);
  CHECK(read.back().end.offset == gw::test::read_text(gw::test::segment_file(state, 1)).size());
  CHECK(reader.position() == read.back().end);
  CHECK(reader.read(1000).empty());  // nothing new
  writer.record(upload("ryan:web", "late"));
  CHECK(paths(reader.read(1000)) == std::vector<std::string>{"late"});
}

TEST_CASE("the reader stops once the lines it took pass its byte budget", "[events][spool]") {
  // The courier's read-ahead is bounded in bytes too: a sink that is down
  // must not make the supervisor hold every large line of a backlog.
  TempDir state;
  SpoolWriter writer(state.path().string(), SpoolLimits{});
  for (int i = 1; i <= 9; ++i) writer.record(upload("ryan:web", "f" + std::to_string(i)));  // lines of one length
  const auto spool = open_spool(state.path().string());
  SpoolReader reader(spool.get(), SpoolPosition{});
  const auto first = reader.read(100, 1);
  REQUIRE(first.size() == 1);  // the first line whatever its size
  const std::size_t line = first[0].event.json.size();
  CHECK(paths(reader.read(100, 2 * line)) == numbered("f", 2, 3));
  CHECK(paths(reader.read(100, 2 * line + 1)) == numbered("f", 4, 6));
  CHECK(paths(reader.read(100)) == numbered("f", 7, 9));
}

TEST_CASE("a line cut short by a failed write is cut off, never glued to the next", "[events][spool]") {
  TempDir state;
  SpoolWriter writer(state.path().string(), SpoolLimits{});
  writer.record(upload("ryan:web", "a"));
  const std::string one = gw::test::segment_file(state, 1);
  const std::size_t size = gw::test::read_text(one).size();
  // The file size limit lets 10 bytes of the next line through: a short write.
  struct rlimit old {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto previous = ::signal(SIGXFSZ, SIG_IGN);
  const struct rlimit small {size + 10, old.rlim_max};
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  writer.record(upload("ryan:web", "b"));
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &old) == 0);
  ::signal(SIGXFSZ, previous);
  CHECK(writer.lost() == 1);
  writer.record(upload("ryan:web", "c"));
  // The fragment is gone and the next line follows the last whole one, in
  // the same segment.
  const std::string text = gw::test::read_text(one);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  CHECK(text.back() == '\n');
  CHECK_FALSE(std::filesystem::exists(gw::test::segment_file(state, 2)));
  const auto spool = open_spool(state.path().string());
  SpoolReader reader(spool.get(), SpoolPosition{});
  CHECK(paths(reader.read(100)) == std::vector<std::string>{"a", "c"});
}

TEST_CASE("a line whose kind or id the writer never makes is no event (both become HTTP headers)", "[events][spool]") {
  TempDir state;
  const auto spool = open_spool(state.path().string());
  const std::string one = gw::test::segment_file(state, 1);
  append(one, event_line("a-1", "m"));
  append(one, R"({"id":"a-2","kind":"upload\r\nX-Injected: 1","mapping":"m"})" "\n");
  append(one, R"({"id":"a-3\r\nX-Injected: 1","kind":"upload","mapping":"m"})" "\n");
  append(one, R"({"id":"a-4","kind":"shutdown","mapping":"m"})" "\n");
  append(one, event_line("a-5", "m"));
  SpoolReader reader(spool.get(), SpoolPosition{1, 0});
  CHECK(ids(reader.read(100)) == std::vector<std::string>{"a-1", "a-5"});
}

TEST_CASE("segments rotate at their size and are read across, oldest first", "[events][spool]") {
  TempDir state;
  SpoolWriter writer(state.path().string(), SpoolLimits{.segment_bytes = 1000, .spool_bytes = 1u << 20});
  for (int i = 1; i <= 40; ++i) writer.record(upload("ryan:web", "f" + std::to_string(i)));
  CHECK(writer.segment() > 3);
  const auto spool = open_spool(state.path().string());
  for (const auto& s : gw::gateway::list_segments(spool.get()))
    if (s.number != writer.segment()) CHECK(s.size >= 1000);
  SpoolReader reader(spool.get(), SpoolPosition{});
  std::vector<SpooledLine> read;
  for (std::vector<SpooledLine> more; !(more = reader.read(7)).empty();) read.insert(read.end(), more.begin(), more.end());
  CHECK(paths(read) == numbered("f", 1, 40));
  CHECK(reader.position().segment == writer.segment());
}

TEST_CASE("after a restart, a new writer and reader go on from the cursor", "[events][spool]") {
  TempDir state;
  std::string first_prefix;
  {
    SpoolWriter writer(state.path().string(), SpoolLimits{});
    for (int i = 1; i <= 5; ++i) writer.record(upload("ryan:web", "a" + std::to_string(i)));
    const auto spool = open_spool(state.path().string());
    SpoolReader reader(spool.get(), SpoolPosition{});
    const auto read = reader.read(3);  // three delivered, the cursor after them
    REQUIRE(read.size() == 3);
    first_prefix = id_prefix(read[0].event.id);
    gw::gateway::write_cursor(spool.get(), "command", read.back().end);
  }
  // The worker restarts (a new segment, a new id prefix), the supervisor too.
  SpoolWriter writer(state.path().string(), SpoolLimits{});
  CHECK(writer.segment() == 2);
  for (int i = 1; i <= 2; ++i) writer.record(upload("ryan:web", "b" + std::to_string(i)));
  const auto spool = open_spool(state.path().string());
  const auto cursor = gw::gateway::read_cursor(spool.get(), "command");
  REQUIRE(cursor);
  SpoolReader reader(spool.get(), *cursor);
  const auto read = reader.read(100);
  CHECK(paths(read) == std::vector<std::string>{"a4", "a5", "b1", "b2"});
  REQUIRE(read.size() == 4);
  CHECK(id_prefix(read[2].event.id) != first_prefix);
  CHECK(read[2].event.id.ends_with("-1"));
  std::set<std::string> unique;
  for (const auto& l : read) unique.insert(l.event.id);
  CHECK(unique.size() == 4);
}

TEST_CASE("a torn last line is skipped in a finished segment, waited for in the newest", "[events][spool]") {
  TempDir state;
  const auto spool = open_spool(state.path().string());
  const std::string one = gw::test::segment_file(state, 1);
  append(one, event_line("a-1", "m") + "this is not json\n" + event_line("a-2", "m") + R"({"id":"a-3","ki)");
  SpoolReader reader(spool.get(), SpoolPosition{1, 0});
  // Segment 1 is the newest: its last line may still be being written.
  CHECK(ids(reader.read(100)) == std::vector<std::string>{"a-1", "a-2"});
  const SpoolPosition before_torn = reader.position();
  CHECK(before_torn.offset == gw::test::read_text(one).size() - std::string(R"({"id":"a-3","ki)").size());
  CHECK(reader.read(100).empty());
  // A worker started after it: segment 1 is finished, its torn line skipped.
  append(gw::test::segment_file(state, 2), event_line("b-1", "m"));
  CHECK(ids(reader.read(100)) == std::vector<std::string>{"b-1"});
  CHECK(reader.position().segment == 2);
  // In the newest segment a line is completed later: read then, whole.
  append(gw::test::segment_file(state, 2), R"({"id":"b-2","kind":"mkdir",)");
  CHECK(reader.read(100).empty());
  append(gw::test::segment_file(state, 2), R"("mapping":"m"})" "\n");
  const auto read = reader.read(100);
  REQUIRE(read.size() == 1);
  CHECK(read[0].event.json == R"({"id":"b-2","kind":"mkdir","mapping":"m"})");
  CHECK(read[0].event.kind == "mkdir");
}

TEST_CASE("a new sink starts at the end of the spool; a removed one's cursor goes", "[events][spool]") {
  TempDir state;
  {
    SpoolWriter writer(state.path().string(), SpoolLimits{});
    for (int i = 1; i <= 3; ++i) writer.record(upload("ryan:web", "old" + std::to_string(i)));
  }
  const auto spool = open_spool(state.path().string());
  gw::gateway::write_cursor(spool.get(), "url-000000000000", SpoolPosition{1, 0});
  gw::gateway::write_cursor(spool.get(), "gone", SpoolPosition{1, 0});
  gw::test::write_file(gw::test::spool_of(state) + "/broken.cursor", "1 x\n");
  gw::gateway::prepare_cursors(spool.get(), {"url-000000000000", "command", "broken"});
  CHECK(gw::gateway::read_cursor(spool.get(), "url-000000000000") == SpoolPosition{1, 0});  // kept
  CHECK_FALSE(std::filesystem::exists(gw::test::spool_of(state) + "/gone.cursor"));
  const auto end = gw::gateway::read_cursor(spool.get(), "command");
  REQUIRE(end);
  CHECK(*end == SpoolPosition{1, gw::test::read_text(gw::test::segment_file(state, 1)).size()});
  // An unreadable cursor: from the oldest event kept (twice, not never).
  CHECK(gw::gateway::read_cursor(spool.get(), "broken") == SpoolPosition{0, 0});

  SpoolWriter writer(state.path().string(), SpoolLimits{});
  writer.record(upload("ryan:web", "new"));
  SpoolReader from_end(spool.get(), *end);
  CHECK(paths(from_end.read(100)) == std::vector<std::string>{"new"});
  SpoolReader from_start(spool.get(), SpoolPosition{0, 0});
  CHECK(paths(from_start.read(100)) == std::vector<std::string>{"old1", "old2", "old3", "new"});
}

TEST_CASE("the writer starts past every segment and every cursor", "[events][spool]") {
  TempDir state;
  const auto spool = open_spool(state.path().string());
  // Segments removed by hand, a cursor left pointing into segment 57.
  gw::gateway::write_cursor(spool.get(), "command", SpoolPosition{57, 300});
  SpoolWriter writer(state.path().string(), SpoolLimits{});
  CHECK(writer.segment() == 58);
  writer.record(upload("ryan:web", "x"));
  SpoolReader reader(spool.get(), SpoolPosition{57, 300});
  CHECK(paths(reader.read(10)) == std::vector<std::string>{"x"});
}

TEST_CASE("over its limit, the spool drops the oldest segments and counts what no sink had", "[events][spool]") {
  TempDir state;
  const std::uint64_t limit = 4000;
  SpoolWriter writer(state.path().string(), SpoolLimits{.segment_bytes = 1000, .spool_bytes = limit});
  const auto spool = open_spool(state.path().string());
  int written = 0;
  while (writer.segment() == 1) writer.record(upload("ryan:web", "f" + std::to_string(++written)));
  // The event that started segment 2 is its only line. The slow sink has
  // delivered it, the fast one everything so far.
  const std::uint64_t in_first = static_cast<std::uint64_t>(written) - 1;
  const SpoolPosition slow{2, gw::test::read_text(gw::test::segment_file(state, 2)).size()};
  gw::gateway::write_cursor(spool.get(), "slow", slow);
  gw::gateway::write_cursor(spool.get(), "fast", SpoolPosition{3, 0});
  const int more = 300;
  for (int i = 0; i < more; ++i) writer.record(upload("ryan:web", "f" + std::to_string(++written)));
  writer.trim();  // waits for the background's trims, and finishes them

  const auto segments = gw::gateway::list_segments(spool.get());
  REQUIRE(!segments.empty());
  CHECK(segments.front().number > 2);  // the oldest went first
  std::uint64_t bytes = 0;
  for (const auto& s : segments) bytes += s.size;
  CHECK(bytes <= limit);
  // Dropped: every event past the slow sink's cursor that the spool no
  // longer holds; segment 1's, which both sinks had, are not counted.
  const std::uint64_t kept = gw::test::spooled_lines(state).size();
  CHECK(kept < static_cast<std::uint64_t>(more));
  CHECK(writer.dropped() == static_cast<std::uint64_t>(more) - kept);
  CHECK(in_first + 1 + static_cast<std::uint64_t>(more) == static_cast<std::uint64_t>(written));
  // What is left reads on from the slow sink's cursor.
  SpoolReader reader(spool.get(), slow);
  const auto read = reader.read(100000);
  CHECK(read.size() == kept);
  CHECK(paths(read).back() == "f" + std::to_string(written));
}

TEST_CASE("without a sink's cursor in them, every dropped event counts", "[events][spool]") {
  TempDir state;
  SpoolWriter writer(state.path().string(), SpoolLimits{.segment_bytes = 1000, .spool_bytes = 2000});
  for (int i = 1; i <= 100; ++i) writer.record(upload("ryan:web", "f" + std::to_string(i)));
  writer.trim();
  CHECK(writer.dropped() == 100 - gw::test::spooled_lines(state).size());
  CHECK(writer.dropped() > 0);
}

TEST_CASE("segments every sink has passed are removed, never the newest", "[events][spool]") {
  TempDir state;
  SpoolWriter writer(state.path().string(), SpoolLimits{.segment_bytes = 500, .spool_bytes = 1u << 20});
  for (int i = 1; i <= 20; ++i) writer.record(upload("ryan:web", "f" + std::to_string(i)));
  const std::uint64_t newest = writer.segment();
  REQUIRE(newest >= 4);
  const auto spool = open_spool(state.path().string());
  gw::gateway::write_cursor(spool.get(), "a", SpoolPosition{3, 10});
  gw::gateway::write_cursor(spool.get(), "b", SpoolPosition{newest + 5, 0});
  CHECK(gw::gateway::remove_passed_segments(spool.get(), {"a", "b", "c"}) == 0);  // c's place is not known
  CHECK(gw::gateway::remove_passed_segments(spool.get(), {"a", "b"}) == 2);      // 1 and 2
  CHECK(gw::gateway::list_segments(spool.get()).front().number == 3);
  gw::gateway::write_cursor(spool.get(), "a", SpoolPosition{newest + 5, 0});
  CHECK(gw::gateway::remove_passed_segments(spool.get(), {"a", "b"}) == newest - 3);
  const auto left = gw::gateway::list_segments(spool.get());
  REQUIRE(left.size() == 1);
  CHECK(left.front().number == newest);
}

TEST_CASE("the backlog: each sink's events after its cursor, for gateway status", "[events][spool]") {
  TempDir state;
  CHECK(gw::gateway::spool_backlog(state.path().string()).empty());  // no spool: none, and none made
  CHECK_FALSE(std::filesystem::exists(gw::test::spool_of(state)));
  SpoolWriter writer(state.path().string(), SpoolLimits{.segment_bytes = 600, .spool_bytes = 1u << 20});
  const auto spool = open_spool(state.path().string());
  gw::gateway::write_cursor(spool.get(), "command", SpoolPosition{0, 0});
  for (int i = 1; i <= 10; ++i) writer.record(upload("ryan:web", "f" + std::to_string(i)));
  REQUIRE(writer.segment() > 2);
  SpoolReader reader(spool.get(), SpoolPosition{0, 0});
  const auto read = reader.read(4);
  gw::gateway::write_cursor(spool.get(), "url-0123456789ab", read.back().end);
  const auto backlog = gw::gateway::spool_backlog(state.path().string());
  REQUIRE(backlog.size() == 2);
  CHECK(backlog[0].sink == "command");
  CHECK(backlog[0].pending == 10);
  CHECK(backlog[1].sink == "url-0123456789ab");
  CHECK(backlog[1].pending == 6);
}

TEST_CASE("a segment that cannot be read is tried again, never skipped", "[events][spool]") {
  TempDir state;
  const auto spool = open_spool(state.path().string());
  // Segment 1 reads as EISDIR (as a failing disk would read EIO); segment 2 is fine.
  std::filesystem::create_directory(gw::test::segment_file(state, 1));
  append(gw::test::segment_file(state, 2), event_line("b-1", "m"));
  SpoolReader reader(spool.get(), SpoolPosition{1, 0});
  CHECK(reader.read(10).empty());
  CHECK(reader.position() == SpoolPosition{1, 0});
  std::filesystem::remove(gw::test::segment_file(state, 1));  // gone (delivered, or dropped): go on
  CHECK(ids(reader.read(10)) == std::vector<std::string>{"b-1"});
}
