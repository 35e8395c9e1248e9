// The option table: every option's name, type, default and help, and the
// environment variables that stand for some of them. One table, so --help,
// the config file keys and the environment cannot drift apart.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <string>
#include <string_view>

#include "gateway/options/options.hpp"

namespace gw::gateway {

namespace defaults {
inline constexpr const char* data_dir = "/var/lib/sftp-gateway/data";
inline constexpr const char* volumes_dir = "/var/lib/sftp-gateway/volumes";
inline constexpr const char* mountpoint = "/run/sftp-gateway/view";
inline constexpr const char* state_dir = "/var/lib/sftp-gateway/state";
inline constexpr double drain_timeout = 25;  // below Kubernetes' default grace period of 30 s
inline constexpr int port = 2000;
inline constexpr double cache_timeout = 1.0;
inline constexpr int threads = 8;
inline constexpr int open_files_per_user = 1024;
inline constexpr const char* log_level = "info";
inline constexpr const char* format = "text";
inline constexpr const char* sshd_capabilities = "SYS_CHROOT,SETUID,SETGID";
inline constexpr const char* umask = "0022";
inline constexpr const char* quota_rescan = "300s";
inline constexpr const char* event_kinds = "upload,remove,rename,mkdir,refusal";
inline constexpr const char* event_command_user = "nobody";
inline constexpr double event_timeout = 10;
inline constexpr int event_parallel = 4;
inline constexpr const char* event_spool_limit = "64M";
}  // namespace defaults

// Keys accepted from every source: command line, environment, config file.
boost::program_options::options_description config_description();

// The whole command line of one command: --help, --config, the config keys
// and the command's own options (check: --format).
boost::program_options::options_description command_description(Command command);

// Environment variable <-> option key ("SFTP_VOLUMES" <-> "map"); "" when the
// variable or key has no counterpart (every other variable is ignored).
std::string key_for_env(std::string_view variable);
std::string_view env_for_key(std::string_view key);

}  // namespace gw::gateway
