#include "gateway/events/http_sink.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "gateway/events/signature.hpp"
#include "gateway/version.hpp"

namespace gw::gateway {
namespace {

// What a receiver may answer that is read (and dropped) before the transfer
// is cut short: an answer is a status, not a download.
constexpr std::size_t kMaxResponseBody = 64 * 1024;

// curl_global_init is not thread-safe on every libcurl: once, before the
// first handle, from whichever thread makes the first sink (the supervisor
// at start). Never cleaned up: the process's exit does that.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("cannot initialise libcurl");
  });
}

struct ResponseBody {
  std::size_t seen = 0;
  bool cut = false;  // more than kMaxResponseBody: the transfer was stopped
};

size_t drop_body(char*, size_t size, size_t n, void* user) {
  auto* body = static_cast<ResponseBody*>(user);
  body->seen += size * n;
  if (body->seen <= kMaxResponseBody) return size * n;
  body->cut = true;
  return 0;  // CURLE_WRITE_ERROR: the status line has been read already
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  void add(const std::string& line) {
    curl_slist* grown = curl_slist_append(list, line.c_str());
    if (grown == nullptr) throw std::bad_alloc();
    list = grown;
  }
};

// What one delivery attempt sends, and where libcurl reports back.
struct Attempt {
  const std::string& url;
  long timeout_ms;
  const std::string& user_agent;
  const std::string& json;
  curl_slist* headers;
  ResponseBody* body;
  char* error;  // CURL_ERROR_SIZE bytes
};

// Every option of one attempt; the first one libcurl refuses (an option
// this libcurl lacks) fails the attempt rather than sending with less.
CURLcode setup(CURL* curl, const Attempt& a) {
  CURLcode rc = CURLE_OK;
  auto set = [&rc](CURLcode r) {
    if (rc == CURLE_OK) rc = r;
  };
  set(curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, a.error));
  set(curl_easy_setopt(curl, CURLOPT_URL, a.url.c_str()));
  // http and https only, and no redirect: a 3xx is an answer like any other
  // non-2xx (not delivered), never a reason to send the event elsewhere.
  set(curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https"));
  set(curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"));
  set(curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L));
  // Several threads: no SIGALRM-based DNS timeouts.
  set(curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, a.timeout_ms));
  set(curl_easy_setopt(curl, CURLOPT_USERAGENT, a.user_agent.c_str()));
  set(curl_easy_setopt(curl, CURLOPT_HTTPHEADER, a.headers));
  set(curl_easy_setopt(curl, CURLOPT_POST, 1L));
  set(curl_easy_setopt(curl, CURLOPT_POSTFIELDS, a.json.data()));
  set(curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(a.json.size())));
  set(curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, drop_body));
  set(curl_easy_setopt(curl, CURLOPT_WRITEDATA, a.body));
  // TLS: libcurl's defaults verify the peer and its name against the
  // system's CA store; nothing here weakens them.
  return rc;
}

}  // namespace

// One easy handle, reused by one delivery at a time: a finished handle keeps
// its connection (and TLS session) open for the next event to the same URL.
struct HttpSink::Handle {
  CURL* curl;
  Handle() : curl(curl_easy_init()) {
    if (curl == nullptr) throw std::runtime_error("cannot make a libcurl handle");
  }
  ~Handle() { curl_easy_cleanup(curl); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

HttpSink::HttpSink(std::string url, std::string secret, double timeout_seconds)
    : url_(std::move(url)),
      secret_(std::move(secret)),
      timeout_ms_(std::max(1L, std::lround(timeout_seconds * 1000))),
      name_("url-" + sha256_hex(url_).substr(0, 12)),
      user_agent_("sftp-gateway/" + std::string(version())) {
  init_curl_once();
}

HttpSink::~HttpSink() = default;

// Handles are pooled rather than kept per thread: deliver() runs on several
// courier threads at once, each borrowing an idle handle (or making one), so
// at most as many handles exist as deliveries ever ran side by side.
std::unique_ptr<HttpSink::Handle> HttpSink::take_handle() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  return std::make_unique<Handle>();
}

void HttpSink::give_back(std::unique_ptr<Handle> handle) {
  // Forgets every option (an idle handle keeps no pointer into a finished
  // delivery's frame) but keeps the open connections.
  curl_easy_reset(handle->curl);
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(handle));
}

DeliveryResult HttpSink::deliver(const SpooledEvent& event) {
  HeaderList headers;
  headers.add("Content-Type: application/json");
  headers.add("X-Gateway-Event: " + event.kind);
  headers.add("X-Gateway-Delivery: " + event.id);
  headers.add("X-Gateway-Signature-256: sha256=" + hmac_sha256_hex(secret_, event.json));
  headers.add("Expect:");  // no 100-continue round trip, whatever the body's size

  auto handle = take_handle();
  ResponseBody body;
  char error[CURL_ERROR_SIZE] = "";
  CURLcode rc = setup(handle->curl, {url_, timeout_ms_, user_agent_, event.json, headers.list, &body, error});
  if (rc == CURLE_OK) rc = curl_easy_perform(handle->curl);
  long status = 0;
  curl_easy_getinfo(handle->curl, CURLINFO_RESPONSE_CODE, &status);
  give_back(std::move(handle));

  const bool answered = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && body.cut);
  if (answered && status >= 200 && status <= 299) return {true, ""};
  if (answered) return {false, "HTTP " + std::to_string(status)};
  // libcurl's own account ("Failed to connect to ...", "Operation timed out
  // after ..."); the code's generic text when it gave none.
  return {false, error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(rc))};
}

}  // namespace gw::gateway
