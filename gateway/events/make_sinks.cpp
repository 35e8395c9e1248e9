// TEMPORARY (branch ev-spool): a stand-in for make_sinks until the real
// sinks (http_sink, command_sink, by the ev-sinks branch) are merged; the
// lead replaces this file with theirs. Its sinks have the real names' shape
// but deliver nothing: every attempt fails, so events wait in the spool.
#include <cstdio>

#include "gateway/events/sinks.hpp"

namespace gw::gateway {
namespace {

class UndeliverableSink final : public Sink {
 public:
  explicit UndeliverableSink(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  DeliveryResult deliver(const SpooledEvent&) override { return {false, "this build cannot deliver events yet"}; }

 private:
  std::string name_;
};

// Not the SHA-256 of the real name: FNV-1a, enough to tell URLs apart here.
std::string url_sink_name(const std::string& url) {
  std::uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : url) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return "url-" + std::string(hex, 12);
}

}  // namespace

std::vector<std::unique_ptr<Sink>> make_sinks(const Settings& settings) {
  std::vector<std::unique_ptr<Sink>> sinks;
  for (const std::string& url : settings.events.urls) sinks.push_back(std::make_unique<UndeliverableSink>(url_sink_name(url)));
  if (!settings.events.command.empty()) sinks.push_back(std::make_unique<UndeliverableSink>("command"));
  return sinks;
}

}  // namespace gw::gateway
