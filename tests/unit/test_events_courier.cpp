// A courier with sinks written here (one that records, one that fails a
// given number of times): what it delivers when, in which order, how often,
// and where its cursor is after a stop. Backoffs are milliseconds here.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events_support.hpp"
#include "gateway/events/courier.hpp"
#include "gateway/events/spool_reader.hpp"
#include "support/catch.hpp"

using gw::gateway::Courier;
using gw::gateway::CourierOptions;
using gw::gateway::DeliveryCounts;
using gw::gateway::DeliveryResult;
using gw::gateway::SpooledEvent;
using gw::gateway::SpoolLimits;
using gw::gateway::SpoolPosition;
using gw::gateway::SpoolWriter;
using gw::test::eventually;
using gw::test::TempDir;
using gw::test::upload;
using namespace std::chrono_literals;

namespace {

// Records every attempt; the first `failures` attempts fail. Checks that no
// two events of one mapping are ever delivered at once.
class TestSink final : public gw::gateway::Sink {
 public:
  explicit TestSink(std::string name, int failures = 0, std::chrono::milliseconds takes = 0ms)
      : name_(std::move(name)), failures_left_(failures), takes_(takes) {}
  const std::string& name() const override { return name_; }

  DeliveryResult deliver(const SpooledEvent& event) override {
    {
      std::lock_guard lock(mu_);
      if (busy_[event.mapping]++ != 0) overlapped_ = true;
      ++in_flight_;
      most_in_flight_ = std::max(most_in_flight_, in_flight_);
      ++attempts_;
    }
    std::this_thread::sleep_for(takes_);
    std::lock_guard lock(mu_);
    --busy_[event.mapping];
    --in_flight_;
    if (failures_left_ > 0) {
      --failures_left_;
      return {false, "HTTP 503"};
    }
    delivered_.push_back(event);
    return {true, ""};
  }

  std::vector<SpooledEvent> delivered() const {
    std::lock_guard lock(mu_);
    return delivered_;
  }
  std::size_t delivered_count() const { return delivered().size(); }
  int attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }
  bool overlapped() const {
    std::lock_guard lock(mu_);
    return overlapped_;
  }
  int most_in_flight() const {
    std::lock_guard lock(mu_);
    return most_in_flight_;
  }

 private:
  const std::string name_;
  mutable std::mutex mu_;
  int failures_left_;
  const std::chrono::milliseconds takes_;
  std::map<std::string, int> busy_;
  bool overlapped_ = false;
  int in_flight_ = 0;
  int most_in_flight_ = 0;
  int attempts_ = 0;
  std::vector<SpooledEvent> delivered_;
};

CourierOptions quick(unsigned parallel = 4) {
  CourierOptions o;
  o.parallel = parallel;
  o.first_backoff = 5ms;
  o.most_backoff = 40ms;
  return o;
}

// The events' ids per mapping, in the order given.
std::map<std::string, std::vector<std::string>> by_mapping(const std::vector<SpooledEvent>& events) {
  std::map<std::string, std::vector<std::string>> out;
  for (const SpooledEvent& e : events) out[e.mapping].push_back(e.id);
  return out;
}

// The spool's events (as spooled) per mapping, in spool order.
std::map<std::string, std::vector<std::string>> spooled_by_mapping(const TempDir& state) {
  std::vector<SpooledEvent> events;
  for (const std::string& line : gw::test::spooled_lines(state)) {
    SpooledEvent e;
    REQUIRE(gw::gateway::parse_spooled(line, &e));
    events.push_back(e);
  }
  return by_mapping(events);
}

const std::vector<std::string> kMappings{"ryan:web", "ryan:docs", "ada:photos"};

void spool_events(SpoolWriter& writer, int n, const std::string& stem = "f") {
  for (int i = 0; i < n; ++i) writer.record(upload(kMappings[static_cast<std::size_t>(i) % 3], stem + std::to_string(i)));
}

std::optional<SpoolPosition> cursor(const TempDir& state, const std::string& sink) {
  const auto spool = gw::gateway::open_spool(state.path().string());
  return gw::gateway::read_cursor(spool.get(), sink);
}

SpoolPosition spool_end(const TempDir& state) {
  const auto spool = gw::gateway::open_spool(state.path().string());
  const auto segments = gw::gateway::list_segments(spool.get());
  return {segments.back().number, segments.back().size};
}

}  // namespace

TEST_CASE("a courier delivers in parallel, but in order and one at a time per mapping", "[events][courier]") {
  TempDir state;
  const auto spool = gw::gateway::open_spool(state.path().string());
  gw::gateway::prepare_cursors(spool.get(), {"command"});
  SpoolWriter writer(state.path().string(), SpoolLimits{});
  spool_events(writer, 60);
  TestSink sink("command", 0, 3ms);
  DeliveryCounts counts;
  Courier courier(sink, spool.get(), {"command"}, quick(4), &counts);
  courier.start();
  REQUIRE(eventually([&] { return sink.delivered_count() == 60; }));
  courier.stop();
  CHECK(by_mapping(sink.delivered()) == spooled_by_mapping(state));
  CHECK_FALSE(sink.overlapped());
  CHECK(sink.most_in_flight() <= 3);  // at most one per mapping, of three
  CHECK(sink.most_in_flight() >= 2);  // but mappings side by side
  CHECK(counts.delivered.load() == 60);
  CHECK(counts.failed.load() == 0);
  CHECK(counts.pending.load() == 0);
  CHECK(cursor(state, "command") == spool_end(state));
}

TEST_CASE("the parallel limit holds with many mappings", "[events][courier]") {
  TempDir state;
  const auto spool = gw::gateway::open_spool(state.path().string());
  gw::gateway::prepare_cursors(spool.get(), {"command"});
  SpoolWriter writer(state.path().string(), SpoolLimits{});
  for (int i = 0; i < 40; ++i) writer.record(upload("m" + std::to_string(i % 10), "f" + std::to_string(i)));
  TestSink sink("command", 0, 3ms);
  Courier courier(sink, spool.get(), {"command"}, quick(2));
  courier.start();
  REQUIRE(eventually([&] { return sink.delivered_count() == 40; }));
  courier.stop();
  CHECK(sink.most_in_flight() == 2);
  CHECK(by_mapping(sink.delivered()) == spooled_by_mapping(state));
}

TEST_CASE("a failing sink is retried until each event is delivered once, in order", "[events][courier]") {
  TempDir state;
  const auto spool = gw::gateway::open_spool(state.path().string());
  gw::gateway::prepare_cursors(spool.get(), {"url-0123456789ab"});
  SpoolWriter writer(state.path().string(), SpoolLimits{});
  spool_events(writer, 12);
  TestSink sink("url-0123456789ab", 25);  // fails the first 25 attempts, whichever events they are
  DeliveryCounts counts;
  Courier courier(sink, spool.get(), {"url-0123456789ab"}, quick(4), &counts);
  courier.start();
  REQUIRE(eventually([&] { return sink.delivered_count() == 12; }));
  courier.stop();
  const auto delivered = sink.delivered();
  CHECK(by_mapping(delivered) == spooled_by_mapping(state));  // each once, in order per mapping
  CHECK(sink.attempts() == 12 + 25);
  CHECK(counts.failed.load() == 25);
  CHECK(counts.delivered.load() == 12);
  CHECK(cursor(state, "url-0123456789ab") == spool_end(state));
}

TEST_CASE("a new courier goes on from the cursor: nothing confirmed is delivered again", "[events][courier]") {
  TempDir state;
  const auto spool = gw::gateway::open_spool(state.path().string());
  gw::gateway::prepare_cursors(spool.get(), {"command"});
  {
    SpoolWriter writer(state.path().string(), SpoolLimits{});
    spool_events(writer, 9, "a");
    TestSink sink("command");
    Courier courier(sink, spool.get(), {"command"}, quick());
    courier.start();
    REQUIRE(eventually([&] { return sink.delivered_count() == 9; }));
    courier.stop();
  }
  const SpoolPosition after_first = *cursor(state, "command");
  CHECK(after_first == spool_end(state));
  // The worker restarted (a new segment), then the supervisor.
  SpoolWriter writer(state.path().string(), SpoolLimits{});
  spool_events(writer, 6, "b");
  TestSink sink("command");
  Courier courier(sink, spool.get(), {"command"}, quick());
  courier.start();
  REQUIRE(eventually([&] { return sink.delivered_count() == 6; }));
  std::this_thread::sleep_for(50ms);  // time to deliver more, if it wrongly would
  courier.stop();
  const auto delivered = sink.delivered();
  CHECK(delivered.size() == 6);
  for (const auto& e : delivered) CHECK_THAT(e.json, Catch::Contains("\"volume_path\":\"b"));
  // The first segment, passed by the only sink and not the newest, is gone.
  CHECK_FALSE(std::filesystem::exists(gw::test::segment_file(state, 1)));
  CHECK(cursor(state, "command") == spool_end(state));
}

TEST_CASE("a stop ends at once and leaves the undelivered events ahead of the cursor", "[events][courier]") {
  TempDir state;
  const auto spool = gw::gateway::open_spool(state.path().string());
  gw::gateway::prepare_cursors(spool.get(), {"command"});
  SpoolWriter writer(state.path().string(), SpoolLimits{});
  const SpoolPosition start = *cursor(state, "command");
  spool_events(writer, 6);
  {
    // Everything fails; the backoff is long: the courier is waiting when stopped.
    TestSink sink("command", 1000);
    CourierOptions slow = quick();
    slow.first_backoff = slow.most_backoff = 60s;
    Courier courier(sink, spool.get(), {"command"}, slow);
    courier.start();
    REQUIRE(eventually([&] { return sink.attempts() == 3; }));  // the first of each mapping
    const auto before = std::chrono::steady_clock::now();
    courier.stop();
    CHECK(std::chrono::steady_clock::now() - before < 1s);
  }
  // Nothing delivered: the cursor is at the first event's start (it was
  // before the first segment), and a new courier delivers every one.
  CHECK(cursor(state, "command") == SpoolPosition{1, 0});
  CHECK(start == SpoolPosition{0, 0});
  TestSink sink("command");
  Courier courier(sink, spool.get(), {"command"}, quick());
  courier.start();
  REQUIRE(eventually([&] { return sink.delivered_count() == 6; }));
  courier.stop();
  CHECK(by_mapping(sink.delivered()) == spooled_by_mapping(state));
}

TEST_CASE("a courier waits for the spool's news and delivers it", "[events][courier]") {
  TempDir state;
  const auto spool = gw::gateway::open_spool(state.path().string());
  gw::gateway::prepare_cursors(spool.get(), {"command", "url-aaaaaaaaaaaa"});
  SpoolWriter writer(state.path().string(), SpoolLimits{.segment_bytes = 600, .spool_bytes = 1u << 20});
  TestSink command("command");
  TestSink url("url-aaaaaaaaaaaa");
  std::atomic<std::uint64_t> spool_bytes{0};
  Courier c1(command, spool.get(), {"command", "url-aaaaaaaaaaaa"}, quick(), nullptr, &spool_bytes);
  Courier c2(url, spool.get(), {"command", "url-aaaaaaaaaaaa"}, quick());
  c1.start();
  c2.start();
  std::this_thread::sleep_for(20ms);
  const auto before = std::chrono::steady_clock::now();
  writer.record(upload("ryan:web", "now"));
  // Well before the 5 s re-read: woken by the write.
  REQUIRE(eventually([&] { return command.delivered_count() == 1 && url.delivered_count() == 1; }, 2s));
  CHECK(std::chrono::steady_clock::now() - before < 2s);
  spool_events(writer, 30);
  REQUIRE(eventually([&] { return command.delivered_count() == 31 && url.delivered_count() == 31; }));
  CHECK(eventually([&] { return spool_bytes.load() > 0; }, 3s));
  c1.stop();
  c2.stop();
  CHECK(by_mapping(url.delivered()) == by_mapping(command.delivered()));
  // Both passed every segment but the newest: the others are gone.
  CHECK(gw::gateway::list_segments(spool.get()).size() == 1);

}
