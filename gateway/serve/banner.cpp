#include "gateway/serve/banner.hpp"

#include <spdlog/spdlog.h>

#include <sstream>

#include "fs/event.hpp"
#include "gateway/version.hpp"
#include "mapping/problem.hpp"
#include "mapping/values.hpp"

namespace gw::gateway {
namespace {

// The items, or with many of them (a config file of 10,000 users) the
// first few and the count: the log line stays readable.
constexpr std::size_t kListed = 10;

// Configuration text in a log line: printable, and not one long line (see
// mapping::excerpt).
std::string shown(const std::string& text) { return mapping::excerpt(text); }

std::string item_list(const std::vector<mapping::Item>& items) {
  if (items.empty()) return "(none)";
  std::string text;
  for (std::size_t i = 0; i < items.size() && i < kListed; ++i) text += (i ? "," : "") + shown(items[i].text);
  if (items.size() > kListed) text += ",... (" + std::to_string(items.size()) + " in all)";
  return text + " (from " + shown(items.front().source) + (items.size() > 1 ? ", ..." : "") + ")";
}

std::string rescan_text(double seconds) {
  if (seconds == 0) return "off";
  std::ostringstream text;
  text << seconds << "s";
  return text.str();
}

// The sinks by kind and count, not the URLs: a URL may carry a token.
std::string events_text(const Settings& s) {
  const EventSettings& e = s.events;
  if (e.sinks() == 0) return "off";
  std::ostringstream text;
  if (!e.urls.empty()) text << e.urls.size() << " url(s)" << (e.command.empty() ? "" : ", ");
  if (!e.command.empty()) text << "command " << shown(e.command) << " as " << shown(e.command_user);
  std::string kinds;
  for (int k = 0; k < fs::kEventKinds; ++k)
    if (s.defaults.events & fs::bit(static_cast<fs::EventKind>(k)))
      kinds += (kinds.empty() ? "" : ",") + std::string(fs::event_kind_name(static_cast<fs::EventKind>(k)));
  text << "; kinds " << kinds << "; timeout " << e.timeout << "s; parallel " << e.parallel << "; spool limit "
       << mapping::render_size(e.spool_limit);
  return text.str();
}

}  // namespace

std::vector<std::string> banner_lines(const Settings& s) {
  std::ostringstream timeout;
  timeout << s.cache_timeout << "s";
  return {
      "sftp-gateway " + std::string(version()) + ": " + std::string(command_name(s.command)),
      "users: " + item_list(s.input.users),
      "map: " + item_list(s.input.rules),
      "data-dir: " + shown(s.paths.data_dir),
      "volumes-dir: " + shown(s.paths.volumes_dir),
      "mountpoint: " + shown(s.mountpoint),
      "state-dir: " + shown(s.state_dir),
      "port: " + std::to_string(s.port),
      "cache-timeout: " + timeout.str(),
      "log-level: " + s.log_level,
      "home-quota: " + (s.defaults.home_limit.bytes ? mapping::render_size(*s.defaults.home_limit.bytes) : "(none)"),
      "home-files: " + (s.defaults.home_limit.files ? std::to_string(*s.defaults.home_limit.files) : "(none)"),
      "umask: " + mapping::render_umask(s.defaults.umask),
      "quota-rescan: " + rescan_text(s.quota_rescan),
      "events: " + events_text(s),
      "config: " + (s.config_file.empty() ? std::string("(none)") : shown(s.config_file)),
  };
}

void log_banner(const Settings& settings) {
  for (const std::string& line : banner_lines(settings)) spdlog::info("{}", line);
}

}  // namespace gw::gateway
