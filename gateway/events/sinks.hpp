// The sinks the options configure (http_sink.hpp, command_sink.hpp), made
// once by the supervisor before its couriers start.
#pragma once

#include <memory>
#include <vector>

#include "gateway/events/sink.hpp"
#include "gateway/options/options.hpp"

namespace gw::gateway {

// Each --event-url in the order given, then the --event-command: the order
// of the metrics' slots (SupervisorCounts::event_sinks). None without them.
std::vector<std::unique_ptr<Sink>> make_sinks(const Settings& settings);

}  // namespace gw::gateway
