// The gateway's command line: a subcommand, then options from the command
// line, the environment (SFTP_USERS, SFTP_VOLUMES, SFTP_PORT) and a config
// file (--config), in that order of precedence, over built-in defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fs/kernel_paths.hpp"
#include "mapping/parse.hpp"
#include "mapping/plan.hpp"

namespace gw::gateway {

enum class Command { check, serve, keys, reload, status, compose_override };

enum class Format { text, json };

std::string_view command_name(Command command);
std::optional<Command> find_command(std::string_view name);
bool is_implemented(Command command);

// `gateway keys ACTION [--user USER] [OPERAND]` (keys/command.hpp).
struct KeysRequest {
  std::string action;                 // add, list, remove, clear or host-secret
  std::string user;                   // --user; empty: every user (list)
  std::vector<std::string> operands;  // add: FILE or -; remove: FINGERPRINT
  // host-secret: the Secret's name and namespace (empty: none given), and
  // whether its keys are --state-dir's instead of new ones.
  std::string secret_name = "sftp-gateway-host-keys";
  std::string namespace_name;
  bool from_state = false;
};

// Upload events (gateway/events/): where the supervisor delivers
// them and how. The kinds spooled are mapping::Defaults::events.
struct EventSettings {
  std::vector<std::string> urls;         // --event-url, in the order given
  std::string secret_file;               // --event-secret-file
  // The secret file's content without its trailing newline. Read by check
  // and by serve's supervisor only: the FUSE worker, which serves untrusted
  // clients, never holds it.
  std::string secret;
  std::string command;                   // --event-command, absolute; empty: none
  std::string command_user = "nobody";   // --event-command-user as given
  std::uint32_t command_uid = 65534;     // ... resolved (check and the supervisor)
  std::uint32_t command_gid = 65534;
  double timeout = 10;                   // seconds one delivery attempt may take
  unsigned parallel = 4;                 // deliveries in flight per sink
  std::uint64_t spool_limit = 64ull << 20;  // bytes the spool may hold
  // Each --event-url, then the --event-command: the slot order of the metrics.
  std::size_t sinks() const { return urls.size() + (command.empty() ? 0 : 1); }
};

// Everything a command needs, resolved from all sources and validated as far
// as options go (users and rules are validated by mapping::parse).
struct Settings {
  Command command = Command::check;
  mapping::Input input;  // users and rules, each item labelled with its source
  mapping::Paths paths;  // --data-dir, --volumes-dir
  std::string mountpoint;
  std::string state_dir;
  std::string authorized_keys_dir;  // --authorized-keys-dir, absolute; empty: none
  std::string host_keys_dir;        // --host-keys-dir, absolute; empty: <state_dir>/host_keys
  std::uint16_t port = 0;
  double cache_timeout = 0;  // seconds the kernel may cache attributes and names
  std::string log_level;     // trace, debug, info, warn or error
  Format format = Format::text;
  std::string config_file;   // empty without --config
  // The config file's bytes these settings were resolved from: everything
  // else (command line, environment) is fixed for a process's life, so a
  // reload that reads the same bytes has nothing to re-parse.
  std::string config_text;
  // Users and rules come from the config file alone (neither the command
  // line nor the environment gives them), so a reload may apply a change of
  // its `users` and `map` lines to just those users.
  bool lists_from_file = false;
  KeysRequest keys;          // the keys command's action, user and operands

  unsigned threads = 0;                  // FUSE worker threads at most
  fs::KernelPaths kernel_paths;          // --fuse-passthrough, --fuse-io-uring (fs/kernel_paths.hpp)
  std::size_t open_files_per_user = 0;   // open files and folders per user (the worker may lower it)
  int worker_fd = -1;                    // >= 0: this process is a supervised FUSE worker
  int progress_fd = -1;                  // the worker's served-request counter (memfd), or -1
  std::string sshd_version_found;        // the worker: what `sshd -V` told the supervisor ("9.2"), or empty
  std::string audit_log = "-";           // file, "-" (stdout) or "off"
  mapping::Defaults defaults;            // --home-quota, --home-files, --umask, --event-kinds
  double quota_rescan = 300;             // seconds between counts of a limited folder; 0: only at start and reload
  std::string metrics_listen;            // ADDR:PORT of the metrics endpoint; empty: off
  std::string metrics_file;              // absolute path of the metrics file; empty: off
  int metrics_fd = -1;                   // the worker's listening socket for metrics, or -1
  EventSettings events;                  // --event-*; the kinds: defaults.events

  // Serving (sshd side).
  bool run_sshd = false;                 // host mode
  std::vector<std::string> listen;       // empty: sshd's default (every address)
  std::string openssh_version = "auto";
  std::string sshd_view;                 // empty: the mountpoint
  int sshd_uid = -1;                     // -1: the local sshd account
  std::vector<std::string> sshd_capabilities;
  std::string sshd_binary = "/usr/sbin/sshd";
  double drain_timeout = 25;             // seconds sessions may go on after SIGTERM
  std::vector<std::string> args;         // the command line (command first), to re-read on reload
};

// What the command line asks for: run a command, or print help/version text
// and exit 0.
struct Invocation {
  enum class Action { run, print };
  Action action = Action::run;
  std::string text;  // for Action::print
  Settings settings;
};

// Frees the users, the rules and the config text of settings a serve
// process keeps for life once it has used them (a reload reads them again):
// at 100,000 users they hold tens of MB in each process. forget_items frees
// the users and rules alone, once parsed.
void forget_lists(Settings& settings);
void forget_items(Settings& settings);

// Parses the arguments after argv[0] and the process environment. Throws
// UsageError (exit code 2) with a one-line message naming the source.
Invocation parse_invocation(const std::vector<std::string>& args);

}  // namespace gw::gateway
