#include "gateway/events/command_env.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <utility>

namespace gw::gateway {
namespace {

// The event's keys a command gets as variables; the rest (replaced, type,
// op, reason, error) it reads from the JSON on stdin.
constexpr std::pair<const char*, const char*> kVariables[] = {
    {"id", "GATEWAY_EVENT_ID"},
    {"kind", "GATEWAY_EVENT_KIND"},
    {"time", "GATEWAY_EVENT_TIME"},
    {"user", "GATEWAY_EVENT_USER"},
    {"mapping", "GATEWAY_EVENT_MAPPING"},
    {"volume", "GATEWAY_EVENT_VOLUME"},
    {"path", "GATEWAY_EVENT_PATH"},
    {"volume_path", "GATEWAY_EVENT_VOLUME_PATH"},
    {"size", "GATEWAY_EVENT_SIZE"},
    {"to", "GATEWAY_EVENT_TO"},
    {"to_volume_path", "GATEWAY_EVENT_TO_VOLUME_PATH"},
};

}  // namespace

std::vector<std::string> command_environment(std::string_view json) {
  nlohmann::json event;
  try {
    event = nlohmann::json::parse(json);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::invalid_argument(std::string("event is not JSON: ") + e.what());
  }
  if (!event.is_object()) throw std::invalid_argument("event is not a JSON object");
  std::vector<std::string> env{std::string(kCommandPath)};
  for (const auto& [key, variable] : kVariables) {
    const auto found = event.find(key);
    if (found == event.end()) continue;
    std::string value = found->is_string() ? found->get<std::string>() : found->dump();
    // A NUL would end the variable early; no name or path can hold one.
    if (value.find('\0') != std::string::npos) continue;
    env.push_back(std::string(variable) + "=" + value);
  }
  return env;
}

}  // namespace gw::gateway
