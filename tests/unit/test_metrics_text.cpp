// The metrics as text: the exposition writer (HELP and TYPE lines, label
// values escaped, names checked, histograms cumulative with +Inf equal to
// _count), the worker's whole page read back by a strict line parser, the
// HTTP answers of the endpoint and --metrics-listen's address syntax.
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "fs/view.hpp"
#include "gateway/events/spool_writer.hpp"
#include "gateway/prometheus_text.hpp"
#include "gateway/serve/metrics_http.hpp"
#include "gateway/serve/metrics_listen.hpp"
#include "gateway/serve/metrics_page.hpp"
#include "support/catch.hpp"

using namespace gw::gateway;
using namespace std::chrono_literals;
using Type = PrometheusText::Type;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// One sample line, parsed strictly: name{label="value",...} value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string value;
};

Sample parse_sample(const std::string& line) {
  static const std::regex shape(R"(^([a-zA-Z_][a-zA-Z0-9_]*)(\{(.*)\})? (\S+)$)");
  static const std::regex label(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$))re");
  std::smatch m;
  if (!std::regex_match(line, m, shape)) throw std::runtime_error("not a sample line: " + line);
  Sample s{m[1], {}, m[4]};
  const std::string labels = m[3];
  std::size_t consumed = 0;
  for (auto it = std::sregex_iterator(labels.begin(), labels.end(), label); it != std::sregex_iterator(); ++it) {
    if (static_cast<std::size_t>(it->position()) != consumed) throw std::runtime_error("bad labels: " + line);
    s.labels[(*it)[1]] = (*it)[2];
    consumed += static_cast<std::size_t>(it->length());
  }
  if (consumed != labels.size()) throw std::runtime_error("bad labels: " + line);
  return s;
}

// The page as families: each must have HELP then TYPE before its samples,
// and every sample must belong to the family it follows.
struct Family {
  std::string type;
  std::vector<Sample> samples;
};

std::map<std::string, Family> parse_page(const std::string& text) {
  std::map<std::string, Family> families;
  std::string current;
  std::string help_of;
  for (const std::string& line : lines_of(text)) {
    if (line.starts_with("# HELP ")) {
      help_of = line.substr(7, line.find(' ', 7) - 7);
      if (families.count(help_of)) throw std::runtime_error("family twice: " + help_of);
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      std::istringstream in(line.substr(7));
      std::string name, type;
      in >> name >> type;
      if (name != help_of) throw std::runtime_error("TYPE without HELP: " + line);
      current = name;
      families[name].type = type;
      continue;
    }
    const Sample s = parse_sample(line);
    const bool own = s.name == current || (families[current].type == "histogram" &&
                                           (s.name == current + "_bucket" || s.name == current + "_sum" ||
                                            s.name == current + "_count"));
    if (!own) throw std::runtime_error("sample outside its family: " + line);
    families[current].samples.push_back(s);
  }
  return families;
}

}  // namespace

TEST_CASE("the writer: HELP and TYPE before the samples, values as the format writes them", "[metrics][text]") {
  PrometheusText out;
  out.family("sftp_gateway_x_total", Type::counter, "What x counts.\nSecond line with a \\ backslash.");
  out.sample("sftp_gateway_x_total", {}, std::uint64_t{18446744073709551615ull});
  out.sample("sftp_gateway_x_total", {{"user", "ann"}, {"mapping", "ann:web"}}, std::uint64_t{3});
  out.family("sftp_gateway_y", Type::gauge, "Y.");
  out.sample("sftp_gateway_y", {}, 0.25);
  CHECK(out.text() ==
        "# HELP sftp_gateway_x_total What x counts.\\nSecond line with a \\\\ backslash.\n"
        "# TYPE sftp_gateway_x_total counter\n"
        "sftp_gateway_x_total 18446744073709551615\n"
        "sftp_gateway_x_total{user=\"ann\",mapping=\"ann:web\"} 3\n"
        "# HELP sftp_gateway_y Y.\n"
        "# TYPE sftp_gateway_y gauge\n"
        "sftp_gateway_y 0.25\n");
  CHECK(format_value(0.0001) == "0.0001");
  CHECK(format_value(1) == "1");
  CHECK(format_value(2.5) == "2.5");
  CHECK(format_value(1796466283.3429897) == "1796466283.3429897");
  CHECK(format_value(1.0 / 0.0) == "+Inf");
  CHECK(format_value(-1.0 / 0.0) == "-Inf");
}

TEST_CASE("label values are escaped and made valid UTF-8", "[metrics][text]") {
  CHECK(escape_label_value(R"(a\b)") == R"(a\\b)");
  CHECK(escape_label_value("say \"hi\"") == R"(say \"hi\")");
  CHECK(escape_label_value("two\nlines") == R"(two\nlines)");
  CHECK(escape_label_value("caf\xc3\xa9/m\xc3\xbasica") == "caf\xc3\xa9/m\xc3\xbasica");  // UTF-8 stays
  CHECK(escape_label_value("bad\xff\xc3") == "bad\xEF\xBF\xBD\xEF\xBF\xBD");            // not UTF-8: U+FFFD
  PrometheusText out;
  out.family("sftp_gateway_quota_used_bytes", Type::gauge, "Q.");
  out.sample("sftp_gateway_quota_used_bytes", {{"folder", "vol/\"odd\"\nname\\"}}, std::uint64_t{1});
  const auto s = parse_sample(lines_of(out.text()).back());
  CHECK(s.labels.at("folder") == R"(vol/\"odd\"\nname\\)");  // one line, still parsable
}

TEST_CASE("names the format does not allow, and samples outside their family, are bugs", "[metrics][text]") {
  PrometheusText out;
  CHECK_THROWS_AS(out.family("9lives", Type::gauge, "h"), std::logic_error);
  CHECK_THROWS_AS(out.family("has-dash", Type::gauge, "h"), std::logic_error);
  CHECK_THROWS_AS(out.sample("sftp_gateway_a", {}, std::uint64_t{1}), std::logic_error);  // no family yet
  out.family("sftp_gateway_a", Type::gauge, "h");
  CHECK_THROWS_AS(out.sample("sftp_gateway_b", {}, std::uint64_t{1}), std::logic_error);
  CHECK_THROWS_AS(out.sample("sftp_gateway_a_count", {}, std::uint64_t{1}), std::logic_error);  // not a histogram
  CHECK_THROWS_AS(out.sample("sftp_gateway_a", {{"bad label", "v"}}, std::uint64_t{1}), std::logic_error);
}

TEST_CASE("a histogram: cumulative buckets with le, +Inf equal to _count, then _sum and _count", "[metrics][text]") {
  PrometheusText out;
  out.family("sftp_gateway_d_seconds", Type::histogram, "D.");
  const double bounds[] = {0.001, 0.5};
  const std::uint64_t cumulative[] = {2, 5, 7};
  out.histogram("sftp_gateway_d_seconds", {{"class", "read"}}, bounds, cumulative, 1.5);
  CHECK(out.text() ==
        "# HELP sftp_gateway_d_seconds D.\n"
        "# TYPE sftp_gateway_d_seconds histogram\n"
        "sftp_gateway_d_seconds_bucket{class=\"read\",le=\"0.001\"} 2\n"
        "sftp_gateway_d_seconds_bucket{class=\"read\",le=\"0.5\"} 5\n"
        "sftp_gateway_d_seconds_bucket{class=\"read\",le=\"+Inf\"} 7\n"
        "sftp_gateway_d_seconds_sum{class=\"read\"} 1.5\n"
        "sftp_gateway_d_seconds_count{class=\"read\"} 7\n");
  const std::uint64_t no_inf[] = {2, 5};
  CHECK_THROWS_AS(out.histogram("sftp_gateway_d_seconds", {}, bounds, no_inf, 0), std::logic_error);
}

TEST_CASE("the worker's page: every family prefixed, typed and helped; counts as the view counted them",
          "[metrics][text]") {
  gw::fs::View view(gw::fs::ViewOptions{.open_files_per_user = 16, .open_files_total = 64});
  gw::fs::Metrics& m = view.metrics();
  m.request(gw::fs::RequestKind::lookup, 0, 20us);
  m.request(gw::fs::RequestKind::lookup, ENOENT, 20us);
  m.request(gw::fs::RequestKind::write, 0, 2ms);
  m.request(gw::fs::RequestKind::write, 0, 7s);
  m.refusal(gw::fs::Refusal::quota);
  const auto web = m.mapping("ann:web", "ann");
  web->count_written(1234);
  web->count_upload(gw::fs::UploadOutcome::discarded);
  WorkerCounts worker;
  worker.started = 1796000000.5;
  worker.reloaded(true);
  worker.reloaded(false);
  SupervisorCounts supervisor;
  supervisor.worker_restarts = 2;
  supervisor.watchdog_hung = 1;
  const auto families = parse_page(render_metrics(view, worker, &supervisor));

  for (const auto& [name, family] : families) {
    INFO(name);
    CHECK(name.starts_with("sftp_gateway_"));
    CHECK((family.type == "counter" || family.type == "gauge" || family.type == "histogram"));
    if (family.type == "counter") CHECK(name.ends_with("_total"));
  }
  const auto value = [&](const std::string& family, const std::map<std::string, std::string>& labels) {
    for (const Sample& s : families.at(family).samples)
      if (s.name == family && s.labels == labels) return s.value;
    return std::string("absent");
  };
  CHECK(value("sftp_gateway_requests_total", {{"request", "lookup"}, {"result", "ok"}}) == "1");
  CHECK(value("sftp_gateway_requests_total", {{"request", "lookup"}, {"result", "ENOENT"}}) == "1");
  CHECK(value("sftp_gateway_requests_total", {{"request", "rename"}, {"result", "ok"}}) == "0");  // ok: always
  CHECK(value("sftp_gateway_requests_total", {{"request", "rename"}, {"result", "EXDEV"}}) == "absent");
  CHECK(value("sftp_gateway_refusals_total", {{"reason", "quota"}}) == "1");
  CHECK(value("sftp_gateway_refusals_total", {{"reason", "read_only_mapping"}}) == "0");
  CHECK(families.count("sftp_gateway_events_recorded_total") == 0);  // no event sink: no event family
  CHECK(value("sftp_gateway_written_bytes_total", {{"user", "ann"}, {"mapping", "ann:web"}}) == "1234");
  CHECK(value("sftp_gateway_uploads_total", {{"user", "ann"}, {"mapping", "ann:web"}, {"outcome", "discarded"}}) ==
        "1");
  CHECK(value("sftp_gateway_uploads_total", {{"user", "ann"}, {"mapping", "ann:web"}, {"outcome", "published"}}) ==
        "0");
  CHECK(value("sftp_gateway_reloads_total", {{"result", "ok"}}) == "1");
  CHECK(value("sftp_gateway_reloads_total", {{"result", "refused"}}) == "1");
  CHECK(value("sftp_gateway_reload_last_success", {}) == "0");
  CHECK(value("sftp_gateway_worker_restarts_total", {}) == "2");
  CHECK(value("sftp_gateway_watchdog_verdicts_total", {{"verdict", "hung"}}) == "1");
  CHECK(value("sftp_gateway_watchdog_verdicts_total", {{"verdict", "slow"}}) == "0");
  CHECK(value("sftp_gateway_worker_start_time_seconds", {}) == "1796000000.5");
  CHECK(value("sftp_gateway_open_handles_per_user_limit", {}) == "16");
  CHECK(value("sftp_gateway_open_handles_limit", {}) == "64");

  // The write class's histogram: cumulative, +Inf == _count, _sum in seconds.
  std::vector<std::uint64_t> buckets;
  std::string count, sum;
  for (const Sample& s : families.at("sftp_gateway_request_duration_seconds").samples) {
    if (s.labels.count("class") == 0 || s.labels.at("class") != "write") continue;
    if (s.name.ends_with("_bucket")) buckets.push_back(std::stoull(s.value));
    if (s.name.ends_with("_count")) count = s.value;
    if (s.name.ends_with("_sum")) sum = s.value;
  }
  REQUIRE(buckets.size() == gw::fs::LatencyHistogram::kBuckets);
  for (std::size_t i = 1; i < buckets.size(); ++i) CHECK(buckets[i] >= buckets[i - 1]);
  CHECK(buckets[3] == 0);  // <= 1 ms
  CHECK(buckets[4] == 1);  // <= 2.5 ms
  CHECK(buckets[buckets.size() - 2] == 1);  // <= 5 s
  CHECK(buckets.back() == 2);
  CHECK(count == "2");
  CHECK(std::stod(sum) == Approx(7.002));
  // Without a supervisor (a worker alone) its families are left out.
  CHECK(parse_page(render_metrics(view, worker, nullptr)).count("sftp_gateway_worker_restarts_total") == 0);
}

TEST_CASE("the event families: what the worker spooled, what the supervisor's couriers delivered", "[metrics][text]") {
  gw::fs::View view(gw::fs::ViewOptions{.open_files_per_user = 16, .open_files_total = 64});
  WorkerCounts worker;
  SupervisorCounts supervisor;
  const gw::test::TempDir state;
  SpoolWriter spool(state.path().string(), SpoolLimits{});
  gw::fs::Event e;
  e.mapping = "ann:web";
  spool.record(e);
  spool.record(e);
  e.kind = gw::fs::EventKind::mkdir;
  spool.record(e);
  // Without sinks configured there is no spool, and no event family.
  const auto none = parse_page(render_metrics(view, worker, &supervisor));
  for (const auto& [name, family] : none) CHECK(name.find("event") == std::string::npos);

  std::strcpy(supervisor.event_sinks[0].sink, "url-0123456789ab");
  std::strcpy(supervisor.event_sinks[1].sink, "command");
  supervisor.event_sinks[0].delivered = 5;
  supervisor.event_sinks[0].failed = 2;
  supervisor.event_sinks[0].pending = 3;
  supervisor.event_spool_bytes = 1234;
  view.metrics().event_recorded(gw::fs::EventKind::upload);
  view.metrics().event_recorded(gw::fs::EventKind::upload);
  view.metrics().event_recorded(gw::fs::EventKind::refusal);
  const auto families = parse_page(render_metrics(view, worker, &supervisor, &spool));
  const auto value = [&](const std::string& family, const std::map<std::string, std::string>& labels) {
    for (const Sample& s : families.at(family).samples)
      if (s.labels == labels) return s.value;
    return std::string("absent");
  };
  CHECK(value("sftp_gateway_events_recorded_total", {{"kind", "upload"}}) == "2");
  CHECK(value("sftp_gateway_events_recorded_total", {{"kind", "refusal"}}) == "1");
  CHECK(value("sftp_gateway_events_recorded_total", {{"kind", "mkdir"}}) == "0");  // every kind's series from the start
  CHECK(families.at("sftp_gateway_events_spooled_total").type == "counter");
  CHECK(value("sftp_gateway_events_spooled_total", {{"kind", "upload"}}) == "2");
  CHECK(value("sftp_gateway_events_spooled_total", {{"kind", "mkdir"}}) == "1");
  CHECK(value("sftp_gateway_events_spooled_total", {{"kind", "refusal"}}) == "0");
  CHECK(value("sftp_gateway_events_dropped_total", {}) == "0");
  CHECK(value("sftp_gateway_event_spool_bytes", {}) == "1234");
  CHECK(value("sftp_gateway_event_deliveries_total", {{"sink", "url-0123456789ab"}, {"result", "ok"}}) == "5");
  CHECK(value("sftp_gateway_event_deliveries_total", {{"sink", "url-0123456789ab"}, {"result", "failed"}}) == "2");
  CHECK(value("sftp_gateway_event_deliveries_total", {{"sink", "command"}, {"result", "ok"}}) == "0");
  CHECK(value("sftp_gateway_event_pending", {{"sink", "url-0123456789ab"}}) == "3");
  CHECK(families.at("sftp_gateway_event_pending").type == "gauge");
  CHECK(families.at("sftp_gateway_event_pending").samples.size() == 2);  // the unused slots are left out
  // A worker alone: what it spooled, not what a supervisor delivered.
  const auto alone = parse_page(render_metrics(view, worker, nullptr, &spool));
  CHECK(alone.count("sftp_gateway_events_spooled_total") == 1);
  CHECK(alone.count("sftp_gateway_event_deliveries_total") == 0);
}

TEST_CASE("HTTP: a request head is read up to its empty line, and no further than the limit", "[metrics][http]") {
  CHECK(head_state("GET /metrics HTTP/1.1\r\nHost: x\r\n") == HeadState::incomplete);
  CHECK(head_state("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") == HeadState::complete);
  CHECK(head_state("GET /metrics HTTP/1.0\n\n") == HeadState::complete);
  CHECK(head_state(std::string(kMaxRequestHead - 1, 'a')) == HeadState::incomplete);
  CHECK(head_state(std::string(kMaxRequestHead, 'a')) == HeadState::too_large);
  CHECK(head_state("GET / HTTP/1.1\r\nX: " + std::string(kMaxRequestHead, 'a') + "\r\n\r\n") == HeadState::too_large);
}

TEST_CASE("HTTP: GET /metrics gets the page; anything else a short error", "[metrics][http]") {
  int rendered = 0;
  const auto render = [&] {
    ++rendered;
    return std::string("page\n");
  };
  const std::string ok = metrics_response("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", render);
  CHECK(ok ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 5\r\n"
        "Connection: close\r\n\r\npage\n");
  CHECK(metrics_response("GET /metrics?x=1 HTTP/1.0\r\n\r\n", render).starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(rendered == 2);
  CHECK(metrics_response("GET / HTTP/1.1\r\n\r\n", render).starts_with("HTTP/1.1 404 Not Found\r\n"));
  CHECK(metrics_response("GET /metrics/../etc HTTP/1.1\r\n\r\n", render).starts_with("HTTP/1.1 404 "));
  const std::string post = metrics_response("POST /metrics HTTP/1.1\r\n\r\n", render);
  CHECK(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
  CHECK(post.find("\r\nAllow: GET\r\n") != std::string::npos);
  CHECK(metrics_response("GET /metrics\r\n\r\n", render).starts_with("HTTP/1.1 400 "));          // HTTP/0.9
  CHECK(metrics_response("GET /metrics HTTP/2.0\r\n\r\n", render).starts_with("HTTP/1.1 400 "));
  CHECK(metrics_response("GET  /metrics HTTP/1.1\r\n\r\n", render).starts_with("HTTP/1.1 400 "));
  CHECK(metrics_response("\x16\x03\x01\x02\x00\x01\r\n\r\n", render).starts_with("HTTP/1.1 400 "));  // TLS hello
  CHECK(rendered == 2);  // errors never render the page
  const std::string timeout = error_response(408);
  CHECK(timeout.starts_with("HTTP/1.1 408 Request Timeout\r\n"));
  CHECK(timeout.ends_with("\r\n\r\nRequest Timeout\n"));
  CHECK(error_response(431).starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

TEST_CASE("--metrics-listen: a numeric address and a port", "[metrics][options]") {
  std::string why;
  auto a = parse_listen_address("127.0.0.1:9464", &why);
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9464);
  a = parse_listen_address("[::1]:80", &why);
  REQUIRE(a);
  CHECK(a->host == "::1");
  CHECK(a->port == 80);
  CHECK(parse_listen_address("0.0.0.0:65535", &why));
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:9x", ":9464",
                          "localhost:9464", "::1:9464", "[::1]9464", "[::1]:", "[nope]:1", "300.1.1.1:80", ""}) {
    INFO(bad);
    why.clear();
    CHECK_FALSE(parse_listen_address(bad, &why));
    CHECK_FALSE(why.empty());
  }
}
