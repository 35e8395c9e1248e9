#include "gateway/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "gateway/exit_codes.hpp"

namespace gw::gateway {

void setup_logging(std::string_view level) {
  const spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  // from_str() answers "off" for anything it does not know; options/options.cpp
  // already restricts the names, so this only guards against a silent log.
  if (parsed == spdlog::level::off) throw UsageError("unknown log level '" + std::string(level) + "'");
  // Not registered by name (stderr_color_mt would), so tests may set up
  // logging more than once in one process.
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("gateway", std::move(sink));
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  logger->set_level(parsed);
  spdlog::set_default_logger(std::move(logger));
}

std::shared_ptr<spdlog::logger> make_audit_logger(const std::string& target) {
  if (target == "off") return nullptr;
  spdlog::sink_ptr sink;
  try {
    if (target == "-") sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    else sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(target, false);
  } catch (const spdlog::spdlog_ex& e) {
    throw UsageError("audit-log: cannot open '" + target + "': " + e.what());
  }
  auto logger = std::make_shared<spdlog::logger>("audit", std::move(sink));
  logger->set_pattern("%v");  // the line is the JSON object, nothing around it
  logger->flush_on(spdlog::level::info);
  return logger;
}

}  // namespace gw::gateway
