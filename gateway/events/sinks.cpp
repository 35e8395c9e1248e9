#include "gateway/events/sinks.hpp"

#include "gateway/events/command_sink.hpp"
#include "gateway/events/http_sink.hpp"

namespace gw::gateway {

std::vector<std::unique_ptr<Sink>> make_sinks(const EventSinkSettings& settings) {
  std::vector<std::unique_ptr<Sink>> sinks;
  for (const auto& url : settings.urls)
    sinks.push_back(std::make_unique<HttpSink>(url, settings.secret, settings.timeout_seconds));
  if (!settings.command.empty())
    sinks.push_back(std::make_unique<CommandSink>(settings.command, settings.command_uid, settings.command_gid,
                                                  settings.timeout_seconds));
  return sinks;
}

}  // namespace gw::gateway
