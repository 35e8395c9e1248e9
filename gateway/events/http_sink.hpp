// A webhook: each event POSTed as JSON to one http(s) URL, signed with the
// shared secret (X-Gateway-Signature-256: sha256=<HMAC-SHA256 hex>), so the
// receiver can tell a gateway's event from anyone else's request.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/events/sink.hpp"

namespace gw::gateway {

class HttpSink final : public Sink {
 public:
  // `url`: http:// or https:// (options checked it; libcurl is limited to
  // these two anyway). `timeout_seconds`: the whole attempt, connect included.
  HttpSink(std::string url, std::string secret, double timeout_seconds);
  ~HttpSink() override;
  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  const std::string& name() const override { return name_; }
  // 2xx: ok. Otherwise "HTTP 503", or libcurl's account of the failure
  // ("Failed to connect to ...", "Operation timed out after ...").
  DeliveryResult deliver(const SpooledEvent& event) override;

 private:
  struct Handle;  // a libcurl easy handle
  std::unique_ptr<Handle> take_handle();
  void give_back(std::unique_ptr<Handle> handle);

  const std::string url_;
  const std::string secret_;
  const long timeout_ms_;
  const std::string name_;  // "url-<12 hex of sha256(url)>"
  const std::string user_agent_;
  std::mutex mu_;  // guards idle_; never held across a transfer
  std::vector<std::unique_ptr<Handle>> idle_;
};

}  // namespace gw::gateway
