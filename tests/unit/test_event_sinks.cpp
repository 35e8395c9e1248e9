// The event sinks that need no root: the signature (RFC 4231's HMAC-SHA256
// vectors), the command's environment from an event's JSON, and HttpSink
// delivering to the real receiver (tests/support/event_receiver.py) started
// as a process on 127.0.0.1: signed and with its headers, a non-2xx answer,
// a refused connection, a receiver slower than the time limit, a scheme
// other than http(s), several threads at once.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "event_receiver_support.hpp"
#include "gateway/events/command_env.hpp"
#include "gateway/events/http_sink.hpp"
#include "gateway/events/signature.hpp"
#include "gateway/events/sinks.hpp"
#include "gateway/version.hpp"
#include "support/catch.hpp"

using namespace gw::gateway;
using gw::test::EventReceiver;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kSecret = "a shared secret";

SpooledEvent upload_event(const std::string& seq = "7") {
  const std::string id = "0123456789abcdef-" + seq;
  return {R"({"id":")" + id +
              R"(","kind":"upload","time":"2026-12-05T13:00:00.123Z","user":"ryan","mapping":"ryan:web",)"
              R"("volume":"thttpd_files","path":"/ryan/web/site/a.html","volume_path":"site/a.html",)"
              R"("size":1234,"replaced":false})",
          id, "upload", "ryan:web"};
}

}  // namespace

TEST_CASE("HMAC-SHA256 gives RFC 4231's test vectors, as lowercase hex") {
  const std::string key20_0b(20, '\x0b');
  CHECK(hmac_sha256_hex(key20_0b, "Hi There") == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(hmac_sha256_hex(std::string(20, '\xaa'), std::string(50, '\xdd')) ==
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  std::string key25;
  for (char c = 1; c <= 25; ++c) key25.push_back(c);
  CHECK(hmac_sha256_hex(key25, std::string(50, '\xcd')) ==
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Test case 5 gives only the first 128 bits.
  CHECK(hmac_sha256_hex(std::string(20, '\x0c'), "Test With Truncation").substr(0, 32) ==
        "a3b6167473100ee06e0c796c2955552b");
  // Keys longer than SHA-256's block are hashed first.
  const std::string key131(131, '\xaa');
  CHECK(hmac_sha256_hex(key131, "Test Using Larger Than Block-Size Key - Hash Key First") ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(hmac_sha256_hex(key131,
                        "This is a test using a larger than block-size key and a larger than block-size data. "
                        "The key needs to be hashed before being used by the HMAC algorithm.") ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("SHA-256 as lowercase hex (FIPS 180-2's 'abc' and the empty message)") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("A webhook sink is named by its URL's hash, never by the URL") {
  HttpSink sink("https://hooks.example.org/gateway?token=abc", kSecret, 10);
  CHECK(sink.name() == "url-f7d42886294b");
}

TEST_CASE("make_sinks: one per URL in order, then the command") {
  EventSinkSettings settings;
  settings.urls = {"https://a.example/hook", "http://b.example/hook"};
  settings.secret = kSecret;
  settings.command = "/usr/local/bin/on-event";
  const auto sinks = make_sinks(settings);
  REQUIRE(sinks.size() == 3);
  CHECK(sinks[0]->name() == "url-" + sha256_hex("https://a.example/hook").substr(0, 12));
  CHECK(sinks[1]->name() == "url-" + sha256_hex("http://b.example/hook").substr(0, 12));
  CHECK(sinks[2]->name() == "command");
  CHECK(make_sinks(EventSinkSettings{}).empty());
}

TEST_CASE("The command's environment: PATH and the event's facts, those present") {
  const auto env = command_environment(upload_event().json);
  CHECK(env == std::vector<std::string>{
                   "PATH=/usr/local/bin:/usr/bin:/bin", "GATEWAY_EVENT_ID=0123456789abcdef-7",
                   "GATEWAY_EVENT_KIND=upload", "GATEWAY_EVENT_TIME=2026-12-05T13:00:00.123Z",
                   "GATEWAY_EVENT_USER=ryan", "GATEWAY_EVENT_MAPPING=ryan:web", "GATEWAY_EVENT_VOLUME=thttpd_files",
                   "GATEWAY_EVENT_PATH=/ryan/web/site/a.html", "GATEWAY_EVENT_VOLUME_PATH=site/a.html",
                   "GATEWAY_EVENT_SIZE=1234"});
  const auto rename = command_environment(
      R"({"id":"x-1","kind":"rename","time":"t","user":"u","mapping":"u:m","volume":"","path":"/u/m/a b",)"
      R"("volume_path":"a b","to":"/u/m/c\"d","to_volume_path":"c\"d"})");
  CHECK(rename == std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin", "GATEWAY_EVENT_ID=x-1",
                                           "GATEWAY_EVENT_KIND=rename", "GATEWAY_EVENT_TIME=t",
                                           "GATEWAY_EVENT_USER=u", "GATEWAY_EVENT_MAPPING=u:m",
                                           "GATEWAY_EVENT_VOLUME=", "GATEWAY_EVENT_PATH=/u/m/a b",
                                           "GATEWAY_EVENT_VOLUME_PATH=a b", "GATEWAY_EVENT_TO=/u/m/c\"d",
                                           "GATEWAY_EVENT_TO_VOLUME_PATH=c\"d"});
  CHECK_THROWS_AS(command_environment("{\"id\":"), std::invalid_argument);
  CHECK_THROWS_AS(command_environment("[1,2]"), std::invalid_argument);
}

TEST_CASE("HttpSink POSTs the event, signed, with its headers") {
  EventReceiver receiver(kSecret);
  HttpSink sink(receiver.url(), kSecret, 5);
  const SpooledEvent event = upload_event();
  const DeliveryResult result = sink.deliver(event);
  CHECK(result.ok);
  CHECK(result.problem.empty());
  const auto records = receiver.records();
  REQUIRE(records.size() == 1);
  const auto& r = records[0];
  CHECK(r["signature_valid"] == true);  // the receiver's own HMAC (Python's hmac) agrees
  CHECK(r["status"] == 200);
  CHECK(r["headers"]["content-type"] == "application/json");
  CHECK(r["headers"]["user-agent"] == "sftp-gateway/" + std::string(version()));
  CHECK(r["headers"]["x-gateway-event"] == "upload");
  CHECK(r["headers"]["x-gateway-delivery"] == event.id);
  CHECK(r["headers"]["x-gateway-signature-256"] == "sha256=" + hmac_sha256_hex(kSecret, event.json));
  CHECK(r["event"] == nlohmann::json::parse(event.json));
  CHECK_FALSE(r["headers"].contains("expect"));

  SECTION("the same sink delivers again (its handle reused)") {
    CHECK(sink.deliver(upload_event("8")).ok);
    REQUIRE(receiver.records().size() == 2);
    CHECK(receiver.records()[1]["headers"]["x-gateway-delivery"] == "0123456789abcdef-8");
  }
}

TEST_CASE("HttpSink: a receiver with another secret refuses it (HTTP 401)") {
  EventReceiver receiver("another secret");
  HttpSink sink(receiver.url(), kSecret, 5);
  const DeliveryResult result = sink.deliver(upload_event());
  CHECK_FALSE(result.ok);
  CHECK(result.problem == "HTTP 401");
  REQUIRE(receiver.records().size() == 1);
  CHECK(receiver.records()[0]["signature_valid"] == false);
}

TEST_CASE("HttpSink: a non-2xx answer is not delivered") {
  EventReceiver receiver(kSecret, {"--status", "500"});
  HttpSink sink(receiver.url(), kSecret, 5);
  const DeliveryResult result = sink.deliver(upload_event());
  CHECK_FALSE(result.ok);
  CHECK(result.problem == "HTTP 500");

  EventReceiver redirecting(kSecret, {"--status", "302"});
  CHECK(HttpSink(redirecting.url(), kSecret, 5).deliver(upload_event()).problem == "HTTP 302");
}

TEST_CASE("HttpSink: a refused connection is not delivered, and says so") {
  // A bound socket that never listens: its port is ours and refuses.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/events";
  const DeliveryResult result = HttpSink(url, kSecret, 5).deliver(upload_event());
  ::close(fd);
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.problem, Catch::Contains("connect", Catch::CaseSensitive::No));
}

TEST_CASE("HttpSink: a receiver slower than the time limit is not delivered") {
  EventReceiver receiver(kSecret, {"--delay", "5"});
  HttpSink sink(receiver.url(), kSecret, 1);
  const auto start = Clock::now();
  const DeliveryResult result = sink.deliver(upload_event());
  const auto took = Clock::now() - start;
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.problem, Catch::Contains("timed out", Catch::CaseSensitive::No));
  CHECK(took >= std::chrono::milliseconds(900));
  CHECK(took < std::chrono::seconds(2));
}

TEST_CASE("HttpSink speaks http and https only") {
  for (const std::string url : {"file:///etc/hostname", "ftp://127.0.0.1/events", "gopher://127.0.0.1/"}) {
    INFO(url);
    const DeliveryResult result = HttpSink(url, kSecret, 2).deliver(upload_event());
    CHECK_FALSE(result.ok);
    CHECK_THAT(result.problem, Catch::Contains("not supported or disabled"));
  }
}

TEST_CASE("HttpSink: https checks the endpoint's certificate against the system's CAs") {
  // A self-signed certificate for 127.0.0.1, which no system CA signed: the
  // handshake fails, and no request reaches the receiver.
  const gw::test::TempDir dir;
  const auto made = gw::test::run_program(
      "/usr/bin/openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir / "key.pem", "-out",
                           dir / "cert.pem", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                           "subjectAltName=IP:127.0.0.1"});
  REQUIRE(made.code == 0);
  EventReceiver receiver(kSecret, {"--tls-cert", dir / "cert.pem", "--tls-key", dir / "key.pem"});
  std::string url = receiver.url();
  url.replace(0, 4, "https");
  const DeliveryResult result = HttpSink(url, kSecret, 5).deliver(upload_event());
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.problem, Catch::Contains("certificate", Catch::CaseSensitive::No));
  CHECK(receiver.records().empty());
}

TEST_CASE("HttpSink delivers from several threads at once") {
  EventReceiver receiver(kSecret);
  HttpSink sink(receiver.url(), kSecret, 5);
  constexpr int kThreads = 6;
  constexpr int kEach = 5;
  std::vector<int> delivered(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        delivered[t] += sink.deliver(upload_event(std::to_string(t * 100 + i))).ok ? 1 : 0;
    });
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) CHECK(delivered[t] == kEach);
  const auto records = receiver.records();
  CHECK(records.size() == kThreads * kEach);
  for (const auto& r : records) CHECK(r["signature_valid"] == true);
}
