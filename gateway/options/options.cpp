#include "gateway/options/options.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <boost/program_options/variables_map.hpp>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <utility>

#include "gateway/exit_codes.hpp"
#include "gateway/keys/command.hpp"
#include "gateway/options/event_options.hpp"
#include "gateway/options/sources.hpp"
#include "gateway/options/table.hpp"
#include "gateway/serve/metrics_listen.hpp"
#include "gateway/sshd/config.hpp"
#include "gateway/version.hpp"
#include "mapping/problem.hpp"
#include "mapping/values.hpp"

namespace po = boost::program_options;

namespace gw::gateway {
namespace {

constexpr std::array<std::pair<Command, std::string_view>, 6> command_names{{
    {Command::check, "check"},
    {Command::serve, "serve"},
    {Command::keys, "keys"},
    {Command::reload, "reload"},
    {Command::status, "status"},
    {Command::compose_override, "compose-override"},
}};

constexpr std::string_view top_help =
    "Usage: gateway COMMAND [options]\n"
    "\n"
    "Commands:\n"
    "  check   validate users and mappings, print each user's tree with owners and modes\n"
    "  serve   mount the view and serve it over sftp\n"
    "  keys    add, list, remove or clear a user's authorized keys\n"
    "  reload  make the running gateway re-read users, mappings and keys\n"
    "  status  show users, mappings, keys and whether the view and sshd are up\n"
    "  compose-override  render the docker-compose override for SFTP_VOLUMES\n"
    "\n"
    "Run 'gateway COMMAND --help' for a command's options.\n"
    "Exit codes: 0 ok, 1 runtime failure, 2 configuration or usage error,\n"
    "            3 backing folder unusable, 4 mount failure.\n";

std::string command_help(Command command, const po::options_description& desc) {
  std::ostringstream out;
  if (command == Command::keys) out << keys_usage() << desc;
  else out << "Usage: gateway " << command_name(command) << " [options]\n" << desc;
  return out.str();
}

Invocation print(std::string text) {
  Invocation invocation;
  invocation.action = Invocation::Action::print;
  invocation.text = std::move(text);
  return invocation;
}

bool asks_for_help(const po::parsed_options& parsed) {
  for (const po::option& o : parsed.options) {
    if (o.string_key == "help") return true;
  }
  return false;
}

// Collects the problems of the option values, so one run names every bad
// one; a bad value is replaced by its default meanwhile.
class ValueProblems {
 public:
  explicit ValueProblems(const Sources& sources) : sources_(sources) {}
  void operator()(const std::string& key, const std::string& what) { lines_.push_back(where(sources_, key) + ": " + what); }
  std::vector<std::string>& lines() { return lines_; }

 private:
  const Sources& sources_;
  std::vector<std::string> lines_;
};

// A value quoted in a message: printable, and no longer than a message allows.
std::string shown(const std::string& value) { return "'" + mapping::excerpt(value, mapping::kQuotedPart) + "'"; }

std::string path_value(const po::variables_map& vm, ValueProblems& problem, const std::string& key) {
  std::string value = vm[key].as<std::string>();
  if (value.empty()) problem(key, key + " must not be empty");
  return value;
}

// A folder the gateway only reads: absolute (made so), or empty when not given.
std::string input_folder_value(const po::variables_map& vm, ValueProblems& problem, const std::string& key) {
  if (vm.count(key) == 0) return {};
  const std::string value = vm[key].as<std::string>();
  if (value.empty()) {
    problem(key, key + " must not be empty");
    return {};
  }
  return std::filesystem::absolute(value).lexically_normal();
}

std::uint16_t port_value(const po::variables_map& vm, ValueProblems& problem) {
  const int port = vm["port"].as<int>();
  if (port < 1 || port > 65535) {
    problem("port", std::to_string(port) + " is not a TCP port (1-65535)");
    return defaults::port;
  }
  return static_cast<std::uint16_t>(port);
}

double seconds_value(const po::variables_map& vm, ValueProblems& problem, const std::string& key) {
  const double seconds = vm[key].as<double>();
  if (!std::isfinite(seconds) || seconds < 0) {
    problem(key, key + " must be a number of seconds >= 0");
    return 0;
  }
  return seconds;
}

std::string choice_value(const po::variables_map& vm, ValueProblems& problem, const std::string& key,
                         std::initializer_list<std::string_view> choices, std::string_view fallback) {
  const std::string value = vm[key].as<std::string>();
  std::string valid;
  for (std::string_view choice : choices) {
    if (value == choice) return value;
    valid += (valid.empty() ? "" : ", ") + std::string(choice);
  }
  problem(key, shown(value) + " is not a valid " + key + " (" + valid + ")");
  return std::string(fallback);
}

int range_value(const po::variables_map& vm, ValueProblems& problem, const std::string& key, int low, int high) {
  const int value = vm[key].as<int>();
  if (value >= low && value <= high) return value;
  problem(key, key + " must be " + std::to_string(low) + " to " + std::to_string(high));
  return low;
}

// ADDR:PORT, checked now so `check` names a bad one; empty when not given.
std::string listen_value(const po::variables_map& vm, ValueProblems& problem, const std::string& key) {
  if (vm.count(key) == 0) return {};
  const std::string value = vm[key].as<std::string>();
  std::string why;
  if (parse_listen_address(value, &why)) return value;
  problem(key, shown(value) + ": " + why);
  return {};
}

// A file the gateway writes while it runs: absolute (made so), not a folder.
std::string output_file_value(const po::variables_map& vm, ValueProblems& problem, const std::string& key) {
  if (vm.count(key) == 0) return {};
  const std::string value = vm[key].as<std::string>();
  if (value.empty() || value.ends_with('/')) {
    problem(key, shown(value) + " is not a file name");
    return {};
  }
  return std::filesystem::absolute(value).lexically_normal();
}

// "auto" (ask sshd when serving) or a version like 9.2.
std::string openssh_version_value(const po::variables_map& vm, ValueProblems& problem) {
  const std::string value = vm["openssh-version"].as<std::string>();
  OpensshVersion version;
  if (value == "auto" || parse_openssh_version(value, &version)) return value;
  problem("openssh-version", "openssh-version: " + shown(value) + " is not a version like 9.2");
  return "auto";
}

// --home-quota, --home-files and --umask, read as a user's quota= and
// files= and a rule's umask= are (mapping/values.hpp).
mapping::Defaults defaults_value(const po::variables_map& vm, ValueProblems& problem) {
  mapping::Defaults d;
  if (vm.count("home-quota") != 0) {
    const auto read = mapping::read_size(vm["home-quota"].as<std::string>(), "home-quota");
    if (read.value) d.home_limit.bytes = read.value;
    else problem("home-quota", read.problem);
  }
  if (vm.count("home-files") != 0) {
    const auto read = mapping::read_count(vm["home-files"].as<std::string>(), "home-files");
    if (read.value) d.home_limit.files = read.value;
    else problem("home-files", read.problem);
  }
  const auto umask = mapping::read_umask(vm["umask"].as<std::string>(), "umask");
  if (umask.value) d.umask = *umask.value;
  else problem("umask", umask.problem);
  return d;
}

// Whole seconds, minutes or hours: "300", "300s", "5m", "1h"; "0" is off.
// At most a year, so whoever schedules with it never overflows a clock.
double duration_value(const po::variables_map& vm, ValueProblems& problem, const std::string& key) {
  constexpr unsigned long long most = 366ull * 24 * 3600;
  const std::string value = vm[key].as<std::string>();
  const std::size_t digits = std::min(value.find_first_not_of("0123456789"), value.size());
  const std::string unit = value.substr(digits);
  const unsigned long long scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
  if (digits == 0 || scale == 0) {
    problem(key, key + " " + shown(value) + " is not a duration; give seconds, or a number with s, m or h "
                 "(300, 300s, 5m, 1h); 0 turns it off");
    return 0;
  }
  unsigned long long number = 0;
  for (std::size_t i = 0; i < digits; ++i) number = std::min(number * 10 + static_cast<unsigned>(value[i] - '0'), most + 1);
  if (number > most / scale) {
    problem(key, key + " " + shown(value) + " is too long; at most 8784h (a year)");
    return 0;
  }
  return static_cast<double>(number * scale);
}

// A kernel path this build's libfuse lacks is a configuration error, not a
// silent no-op: whoever asks for it measures or relies on it.
fs::KernelPaths kernel_paths_value(const po::variables_map& vm, ValueProblems& problem) {
  fs::KernelPaths k;
  k.passthrough = vm["fuse-passthrough"].as<bool>();
  k.io_uring = vm["fuse-io-uring"].as<bool>();
  if (k.passthrough && !fs::kBuiltWithPassthrough)
    problem("fuse-passthrough", "fuse-passthrough needs a gateway built against libfuse >= 3.16; this one has " +
                                    fs::libfuse_text());
  if (k.io_uring && !fs::kBuiltWithIoUring)
    problem("fuse-io-uring", "fuse-io-uring needs a gateway built against libfuse >= 3.18; this one has " +
                                 fs::libfuse_text());
  return k;
}

Settings settings_from(const po::variables_map& vm, const Sources& sources, Command command,
                       std::vector<std::string>& problems) {
  ValueProblems problem(sources);
  Settings s;
  s.command = command;
  s.input.users = source_items(sources, "users");
  s.input.rules = source_items(sources, "map");
  s.lists_from_file = sources.config && file_decides(sources, "users") && file_decides(sources, "map");
  s.paths.data_dir = path_value(vm, problem, "data-dir");
  s.paths.volumes_dir = path_value(vm, problem, "volumes-dir");
  s.mountpoint = path_value(vm, problem, "mountpoint");
  s.state_dir = path_value(vm, problem, "state-dir");
  // Absolute: host mode's sshd resolves its accounts through links to it
  // from its own /etc, where a relative path would mean something else.
  if (!s.state_dir.empty() && s.state_dir.front() != '/') s.state_dir = std::filesystem::absolute(s.state_dir);
  s.authorized_keys_dir = input_folder_value(vm, problem, "authorized-keys-dir");
  s.host_keys_dir = input_folder_value(vm, problem, "host-keys-dir");
  s.port = port_value(vm, problem);
  s.cache_timeout = seconds_value(vm, problem, "cache-timeout");
  s.log_level = choice_value(vm, problem, "log-level", {"trace", "debug", "info", "warn", "error"}, defaults::log_level);
  if (vm.count("format") != 0) {
    s.format = choice_value(vm, problem, "format", {"text", "json"}, defaults::format) == "json" ? Format::json : Format::text;
  }
  if (vm.count("config") != 0) s.config_file = vm["config"].as<std::string>();
  s.run_sshd = vm["run-sshd"].as<bool>();
  s.audit_log = vm["audit-log"].as<std::string>();
  s.defaults = defaults_value(vm, problem);
  s.quota_rescan = duration_value(vm, problem, "quota-rescan");
  s.metrics_listen = listen_value(vm, problem, "metrics-listen");
  s.metrics_file = output_file_value(vm, problem, "metrics-file");
  s.threads = static_cast<unsigned>(range_value(vm, problem, "threads", 1, 256));
  s.kernel_paths = kernel_paths_value(vm, problem);
  s.open_files_per_user = static_cast<std::size_t>(range_value(vm, problem, "open-files-per-user", 16, 1000000));
  if (vm.count("worker-fd") != 0) s.worker_fd = vm["worker-fd"].as<int>();
  if (vm.count("progress-fd") != 0) s.progress_fd = vm["progress-fd"].as<int>();
  if (vm.count("metrics-fd") != 0) s.metrics_fd = vm["metrics-fd"].as<int>();
  if (vm.count("sshd-version-found") != 0) s.sshd_version_found = vm["sshd-version-found"].as<std::string>();
  // The secret is read, the command and its user looked up, where they are
  // used: by check, and by serve's supervisor (never by the FUSE worker).
  const bool resolve = command == Command::check || (command == Command::serve && s.worker_fd < 0);
  const OptionProblem event_problem = [&problem](const std::string& key, const std::string& what) { problem(key, what); };
  s.events = event_settings(vm, event_problem, resolve);
  s.defaults.events = event_kinds(vm, event_problem);
  if (vm.count("listen") != 0) s.listen = vm["listen"].as<std::vector<std::string>>();
  s.openssh_version = openssh_version_value(vm, problem);
  if (vm.count("sshd-view") != 0) s.sshd_view = vm["sshd-view"].as<std::string>();
  s.sshd_uid = vm["sshd-uid"].as<int>();
  s.sshd_binary = vm["sshd"].as<std::string>();
  s.drain_timeout = seconds_value(vm, problem, "drain-timeout");
  for (const auto& item : mapping::split_list(vm["sshd-capabilities"].as<std::string>(), "sshd-capabilities"))
    s.sshd_capabilities.push_back(item.text);
  problems.insert(problems.end(), problem.lines().begin(), problem.lines().end());
  return s;
}

// Each stage finds its own kind of problem (a malformed line, an unknown
// key, a bad value); the config file's are shown in the order of their
// lines, after the command line's and the environment's.
void in_line_order(std::vector<std::string>& problems, const std::string& line_zero) {
  const std::string prefix = line_zero.substr(0, line_zero.size() - 1);  // "gateway.conf line "
  const auto line = [&](const std::string& problem) -> long {
    if (!problem.starts_with(prefix)) return 0;
    return std::strtol(problem.c_str() + prefix.size(), nullptr, 10);
  };
  std::stable_sort(problems.begin(), problems.end(),
                   [&](const std::string& a, const std::string& b) { return line(a) < line(b); });
}

// Resolves a command's options from all sources. The descriptions live here
// because the parsed options in `sources` point at them. Every bad value of
// every source is reported at once (one line each), then the run stops.
Invocation resolve(Command command, const std::vector<std::string>& args) {
  const po::options_description cli_desc = command_description(command);
  const po::options_description config_desc = config_description();
  Sources sources;
  sources.cli = parse_cli(args, cli_desc);
  if (asks_for_help(*sources.cli)) return print(command_help(command, cli_desc));
  std::vector<std::string> problems;
  const auto add = [&](std::vector<std::string> more) { problems.insert(problems.end(), more.begin(), more.end()); };
  po::variables_map vm;
  add(store_source(sources, Source::cli, vm));  // first: Boost keeps the first value stored
  if (vm.count("config") != 0) {
    sources.config = read_config_file(vm["config"].as<std::string>());
    add(sources.config->problems);
  }
  sources.env = parse_env(config_desc);
  if (sources.config) sources.file = parse_file(*sources.config, config_desc, problems);
  add(store_source(sources, Source::env, vm));
  add(store_source(sources, Source::file, vm));
  Invocation invocation;
  invocation.settings = settings_from(vm, sources, command, problems);
  if (!problems.empty()) {
    if (sources.config) in_line_order(problems, sources.config->where(0));
    throw UsageError(std::move(problems));
  }
  invocation.settings.args = args;
  if (sources.config) invocation.settings.config_text = sources.config->text;
  invocation.settings.args.insert(invocation.settings.args.begin(), std::string(command_name(command)));
  return invocation;
}

}  // namespace

std::string_view command_name(Command command) {
  for (const auto& [c, name] : command_names) {
    if (c == command) return name;
  }
  return "?";
}

std::optional<Command> find_command(std::string_view name) {
  for (const auto& [command, n] : command_names) {
    if (n == name) return command;
  }
  return std::nullopt;
}

bool is_implemented(Command) { return true; }

Invocation parse_invocation(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("missing command; see 'gateway --help'");
  const std::string& first = args.front();
  if (first == "--help" || first == "-h" || first == "help") return print(std::string(top_help));
  if (first == "--version") return print("gateway " + std::string(version()) + "\n" + fs::libfuse_text() + "\n");
  const std::optional<Command> command = find_command(first);
  if (!command) {
    if (first.starts_with('-')) throw UsageError("the command comes first: gateway COMMAND [options]");
    throw UsageError("unknown command '" + first + "'; see 'gateway --help'");
  }
  if (!is_implemented(*command)) {
    throw ExitError(exit_code::failure, "'" + first + "' is not available in this build");
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  const KeysRequest keys = *command == Command::keys ? take_keys_request(rest) : KeysRequest{};
  Invocation invocation = resolve(*command, rest);
  invocation.settings.keys = keys;
  return invocation;
}

void forget_items(Settings& settings) {
  std::vector<mapping::Item>().swap(settings.input.users);
  std::vector<mapping::Item>().swap(settings.input.rules);
}

void forget_lists(Settings& settings) {
  forget_items(settings);
  std::string().swap(settings.config_text);
}

}  // namespace gw::gateway
