#include "gateway/options/table.hpp"

#include <array>
#include <boost/program_options/value_semantic.hpp>
#include <utility>
#include <vector>

namespace po = boost::program_options;

namespace gw::gateway {
namespace {

using Strings = std::vector<std::string>;

constexpr std::array<std::pair<std::string_view, std::string_view>, 3> env_keys{{
    {"SFTP_USERS", "users"},
    {"SFTP_VOLUMES", "map"},
    {"SFTP_PORT", "port"},
}};

// Wide enough that the rule syntax is not broken mid-word.
constexpr unsigned line_length = 100;

}  // namespace

po::options_description config_description() {
  po::options_description d("Configuration (command line > environment > config file)", line_length);
  // users and map are lists: repeated occurrences in one source add up, but
  // the highest source that gives the key replaces the lower ones entirely
  // (not composing), so the file cannot sneak in extra users.
  d.add_options()
    ("users", po::value<Strings>()->value_name("LIST"),
     "sftp accounts, each name:uid[:gid][:quota=SIZE][:files=N] (comma separated, repeatable; "
     "env SFTP_USERS)")
    ("map", po::value<Strings>()->value_name("LIST"),
     "mapping rules, each volume[/subdir]:user:mount[:opt...] (comma separated, repeatable; "
     "env SFTP_VOLUMES)")
    ("data-dir", po::value<std::string>()->default_value(defaults::data_dir)->value_name("DIR"),
     "folder holding each user's home <DIR>/<user>")
    ("volumes-dir", po::value<std::string>()->default_value(defaults::volumes_dir)->value_name("DIR"),
     "folder holding the volumes <DIR>/<volume>")
    ("mountpoint", po::value<std::string>()->default_value(defaults::mountpoint)->value_name("DIR"),
     "where the view is mounted")
    ("state-dir", po::value<std::string>()->default_value(defaults::state_dir)->value_name("DIR"),
     "the gateway's private state (host keys, authorized keys)")
    ("authorized-keys-dir", po::value<std::string>()->value_name("DIR"),
     "read-only folder of authorized keys, one file per user named as the user (e.g. a Kubernetes "
     "ConfigMap or Secret volume), served with the keys `gateway keys` stores; watched (default: none)")
    ("host-keys-dir", po::value<std::string>()->value_name("DIR"),
     "read-only folder holding ssh_host_ed25519_key and ssh_host_rsa_key, used instead of generating "
     "them into the state folder, so replicas share one host identity (default: none)")
    ("port", po::value<int>()->default_value(defaults::port)->value_name("N"),
     "sshd's TCP port (env SFTP_PORT)")
    ("cache-timeout", po::value<double>()->default_value(defaults::cache_timeout, "1.0")->value_name("SECONDS"),
     "how long the kernel may cache names and attributes")
    ("log-level", po::value<std::string>()->default_value(defaults::log_level)->value_name("LEVEL"),
     "trace, debug, info, warn or error")
    ("threads", po::value<int>()->default_value(defaults::threads)->value_name("N"),
     "most FUSE worker threads serving requests at once")
    ("fuse-passthrough", po::bool_switch(),
     "files opened for reading are read by the kernel straight from the backing file, without a request "
     "per read (libfuse >= 3.16, Linux >= 6.9; downloads then count no read bytes in the metrics)")
    ("fuse-io-uring", po::bool_switch(),
     "FUSE requests over io_uring (libfuse 3.18 built with liburing; the host must set "
     "/sys/module/fuse/parameters/enable_uring to Y; the log says whether the ring started)")
    ("open-files-per-user", po::value<int>()->default_value(defaults::open_files_per_user)->value_name("N"),
     "most files and folders one user may hold open through the view (EMFILE beyond)")
    ("audit-log", po::value<std::string>()->default_value("-")->value_name("FILE"),
     "audit trail, one JSON line per change and per refusal: a file, - (stdout) or off")
    ("home-quota", po::value<std::string>()->value_name("SIZE"),
     "limit on what each home holds: bytes with an optional K, M, G or T (1024-based), e.g. 1G; "
     "a user's quota= overrides it (default: none)")
    ("home-files", po::value<std::string>()->value_name("N"),
     "limit on the files, folders and symlinks each home holds; a user's files= overrides it (default: none)")
    ("umask", po::value<std::string>()->default_value(defaults::umask)->value_name("OCTAL"),
     "permission bits new files and folders never get, in homes and in mappings without umask=")
    ("quota-rescan", po::value<std::string>()->default_value(defaults::quota_rescan)->value_name("DURATION"),
     "how often limited folders are counted again, to catch what was written behind the gateway's back: "
     "seconds, or with s, m or h (300, 5m, 1h); 0 never")
    ("metrics-listen", po::value<std::string>()->value_name("ADDR:PORT"),
     "serve Prometheus metrics at http://ADDR:PORT/metrics (default: off; e.g. 127.0.0.1:9464)")
    ("metrics-file", po::value<std::string>()->value_name("FILE"),
     "write the same metrics to FILE every 5 s, for node_exporter's textfile collector (default: off)")
    ("event-url", po::value<Strings>()->value_name("URL"),
     "POST each upload event as JSON to URL, http:// or https:// (repeatable; default: none)")
    ("event-secret-file", po::value<std::string>()->value_name("FILE"),
     "the key each --event-url delivery is signed with (HMAC-SHA256): the whole file, a trailing newline "
     "stripped; required with --event-url")
    ("event-command", po::value<std::string>()->value_name("PATH"),
     "run PATH for each upload event, the JSON on its stdin and GATEWAY_EVENT_* in its environment "
     "(absolute; default: none)")
    ("event-command-user", po::value<std::string>()->default_value(defaults::event_command_user)->value_name("USER"),
     "the user (name or uid, not root) --event-command runs as")
    ("event-timeout", po::value<double>()->default_value(defaults::event_timeout, "10")->value_name("SECONDS"),
     "how long one delivery attempt may take before it counts as failed")
    ("event-parallel", po::value<int>()->default_value(defaults::event_parallel)->value_name("N"),
     "deliveries in flight per sink (1-64); one mapping's events always go one at a time, in order")
    ("event-kinds", po::value<std::string>()->default_value(defaults::event_kinds)->value_name("LIST"),
     "the kinds of events spooled: upload, remove, rename, mkdir, refusal (comma separated)")
    ("event-spool-limit", po::value<std::string>()->default_value(defaults::event_spool_limit)->value_name("SIZE"),
     "most bytes of events kept for delivery (at least 1M); beyond it the oldest are dropped")
    ("run-sshd", po::bool_switch(),
     "host mode: also run the system's sshd on the rendered config (serve)")
    ("listen", po::value<Strings>()->value_name("ADDR"),
     "sshd ListenAddress (repeatable; default: every address)")
    ("openssh-version", po::value<std::string>()->default_value("auto")->value_name("X.Y"),
     "the OpenSSH version sshd_config is rendered for; auto asks the local sshd")
    ("sshd-view", po::value<std::string>()->value_name("DIR"),
     "the view's path as sshd sees it (default: the mountpoint)")
    ("sshd-uid", po::value<int>()->default_value(-1)->value_name("UID"),
     "uid of sshd's privilege separation user (default: the local 'sshd' account)")
    ("sshd-capabilities", po::value<std::string>()->default_value(defaults::sshd_capabilities)->value_name("LIST"),
     "host mode: the only capabilities sshd keeps")
    ("sshd", po::value<std::string>()->default_value("/usr/sbin/sshd")->value_name("PATH"),
     "host mode: the sshd binary")
    ("drain-timeout", po::value<double>()->default_value(defaults::drain_timeout, "25")->value_name("SECONDS"),
     "host mode: on SIGTERM, how long running sessions may go on after sshd stops taking new ones");
  return d;
}

po::options_description command_description(Command command) {
  po::options_description general("General", line_length);
  general.add_options()
    ("help,h", "show this help and exit")
    ("config", po::value<std::string>()->value_name("FILE"),
     "read `key = value` lines from FILE (keys as the long options below)");
  if (command == Command::serve) {
    general.add_options()
      ("worker-fd", po::value<int>()->default_value(-1)->value_name("FD"),
       "internal: run as the FUSE worker of a supervising gateway, reporting readiness on FD")
      ("progress-fd", po::value<int>()->default_value(-1)->value_name("FD"),
       "internal: the worker counts the requests it served in this shared memory (for the watchdog)")
      ("metrics-fd", po::value<int>()->default_value(-1)->value_name("FD"),
       "internal: the worker serves metrics on this listening socket (bound for --metrics-listen)")
      ("sshd-version-found", po::value<std::string>()->value_name("X.Y"),
       "internal: the OpenSSH version the supervisor asked sshd for (the worker does not ask again)");
  }
  if (command == Command::check || command == Command::status || command == Command::keys) {
    general.add_options()
      ("format", po::value<std::string>()->default_value(defaults::format)->value_name("FORMAT"),
       "text or json");
  }
  if (command == Command::keys) {
    general.add_options()
      ("user", po::value<std::string>()->value_name("USER"), "the user whose keys to change (list: default every user)")
      ("secret-name", po::value<std::string>()->value_name("NAME"),
       "host-secret: the Secret's name (default: sftp-gateway-host-keys)")
      ("namespace", po::value<std::string>()->value_name("NS"), "host-secret: the Secret's namespace (default: none)")
      ("from-state", po::bool_switch(), "host-secret: the host keys in --state-dir, not new ones");
  }
  po::options_description all(line_length);
  all.add(general).add(config_description());
  return all;
}

std::string key_for_env(std::string_view variable) {
  for (const auto& [env, key] : env_keys) {
    if (env == variable) return std::string(key);
  }
  return {};
}

std::string_view env_for_key(std::string_view key) {
  for (const auto& [env, k] : env_keys) {
    if (k == key) return env;
  }
  return {};
}

}  // namespace gw::gateway
