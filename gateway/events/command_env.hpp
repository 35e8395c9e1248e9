// The environment an event command runs with: a fixed PATH and the event's
// facts as GATEWAY_EVENT_* variables, nothing inherited from the gateway
// (its environment may carry secrets, and a command must not depend on it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gw::gateway {

inline constexpr std::string_view kCommandPath = "PATH=/usr/local/bin:/usr/bin:/bin";

// "PATH=...", then "GATEWAY_EVENT_ID=...", _KIND, _TIME, _USER, _MAPPING,
// _VOLUME, _PATH, _VOLUME_PATH, _SIZE, _TO, _TO_VOLUME_PATH for the keys the
// event's JSON has. Throws std::invalid_argument when `json` is not a JSON
// object.
std::vector<std::string> command_environment(std::string_view json);

}  // namespace gw::gateway
