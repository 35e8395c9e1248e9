// The supervisor's sinks, made from the checked event options.
#pragma once

#include <memory>
#include <vector>

#include "gateway/events/sink.hpp"
#include "gateway/events/sink_settings.hpp"

namespace gw::gateway {

// One HttpSink per URL, in option order, then the CommandSink when a
// command is set: that order is the sinks' metric slots'. Empty when no
// sink is configured.
std::vector<std::unique_ptr<Sink>> make_sinks(const EventSinkSettings& settings);

}  // namespace gw::gateway
