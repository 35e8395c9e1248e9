#include "gateway/serve/event_delivery.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "gateway/events/sinks.hpp"
#include "gateway/events/spool_dir.hpp"
#include "gateway/exit_codes.hpp"

namespace gw::gateway {
namespace {

// What the sinks are made from (gateway/events keeps free of the options).
EventSinkSettings sink_settings(const EventSettings& events) {
  return EventSinkSettings{events.urls, events.secret, events.command, events.command_uid, events.command_gid,
                           events.timeout};
}

}  // namespace

EventDelivery::EventDelivery(const Settings& settings, SupervisorCounts& counts) {
  if (settings.events.sinks() == 0) return;
  sinks_ = make_sinks(sink_settings(settings.events));
  if (sinks_.size() > kMaxSinks) throw UsageError("event-url: at most " + std::to_string(kMaxSinks) + " sinks");
  std::vector<std::string> names;
  for (std::size_t slot = 0; slot < sinks_.size(); ++slot) {
    const std::string& name = sinks_[slot]->name();
    names.push_back(name);
    // Written before the first worker starts, which only reads it.
    const std::size_t n = std::min(name.size(), kSinkNameBytes - 1);
    std::memcpy(counts.event_sinks[slot].sink, name.data(), n);
    counts.event_sinks[slot].sink[n] = '\0';
  }
  spool_ = open_spool(settings.state_dir);
  prepare_cursors(spool_.get(), names);
  CourierOptions options;
  options.parallel = settings.events.parallel;
  for (std::size_t slot = 0; slot < sinks_.size(); ++slot) {
    // The first courier counts the spool's bytes for all.
    couriers_.push_back(std::make_unique<Courier>(*sinks_[slot], spool_.get(), names, options, &counts.event_sinks[slot],
                                                  slot == 0 ? &counts.event_spool_bytes : nullptr));
    couriers_.back()->start();
    spdlog::info("event sink {}: delivering from {}", names[slot], spool_path(settings.state_dir));
  }
}

EventDelivery::~EventDelivery() { stop(); }

void EventDelivery::request_stop() {
  for (auto& courier : couriers_) courier->request_stop();
}

void EventDelivery::stop() {
  request_stop();
  for (auto& courier : couriers_) courier->stop();
}

}  // namespace gw::gateway
