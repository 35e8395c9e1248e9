#include "gateway/banner.hpp"

#include <spdlog/spdlog.h>

#include <sstream>

#include "gateway/version.hpp"

namespace gw::gateway {
namespace {

std::string item_list(const std::vector<mapping::Item>& items) {
  if (items.empty()) return "(none)";
  std::string text;
  for (const mapping::Item& item : items) text += (text.empty() ? "" : ",") + item.text;
  return text + " (from " + items.front().source + (items.size() > 1 ? ", ..." : "") + ")";
}

}  // namespace

std::vector<std::string> banner_lines(const Settings& s) {
  std::ostringstream timeout;
  timeout << s.cache_timeout << "s";
  return {
      "sftp-gateway " + std::string(version()) + ": " + std::string(command_name(s.command)),
      "users: " + item_list(s.input.users),
      "map: " + item_list(s.input.rules),
      "data-dir: " + s.paths.data_dir,
      "volumes-dir: " + s.paths.volumes_dir,
      "mountpoint: " + s.mountpoint,
      "state-dir: " + s.state_dir,
      "port: " + std::to_string(s.port),
      "cache-timeout: " + timeout.str(),
      "log-level: " + s.log_level,
      "config: " + (s.config_file.empty() ? std::string("(none)") : s.config_file),
  };
}

void log_banner(const Settings& settings) {
  for (const std::string& line : banner_lines(settings)) spdlog::info("{}", line);
}

}  // namespace gw::gateway
