// Logging set-up. Only gateway/ configures sinks; the other libraries just
// call spdlog::info() and friends on the default logger.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace gw::gateway {

// Makes spdlog's default logger write to stderr (coloured only on a
// terminal) at the given level: trace, debug, info, warn or error.
// Containers and systemd collect stderr, so no file sink.
void setup_logging(std::string_view level);

// The audit trail's logger (fs/audit.hpp): JSON lines to `target`, a file
// (appended), "-" for stdout; null for "off". Not registered anywhere: the
// worker hands it to its View. Throws UsageError when the file cannot be opened.
std::shared_ptr<spdlog::logger> make_audit_logger(const std::string& target);

}  // namespace gw::gateway
