// Logging set-up. Only gateway/ configures sinks; the other libraries just
// call spdlog::info() and friends on the default logger.
#pragma once

#include <string_view>

namespace gw::gateway {

// Makes spdlog's default logger write to stderr (coloured only on a
// terminal) at the given level: trace, debug, info, warn or error.
// Containers and systemd collect stderr, so no file sink.
void setup_logging(std::string_view level);

// The audit trail (fs/audit.hpp): JSON lines to `target`, a file (appended),
// "-" for stdout, or "off". Registers the spdlog logger named "audit".
void setup_audit(const std::string& target);

}  // namespace gw::gateway
