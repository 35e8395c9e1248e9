#include "gateway/keys/command.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/program_options/errors.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string_view>

#include "gateway/serve/control_commands.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/json_writer.hpp"
#include "gateway/keys/host_secret.hpp"
#include "gateway/keys/key_store.hpp"
#include "gateway/options/table.hpp"
#include "mapping/parse.hpp"
#include "mapping/problem.hpp"

namespace po = boost::program_options;

namespace gw::gateway {
namespace {

constexpr std::array<std::string_view, 5> kActions{"add", "list", "remove", "clear", "host-secret"};
constexpr std::string_view kOperand = "keys-operand";
// Far more than any list of public keys; stops `keys add < /dev/zero`.
constexpr std::size_t kMaxInputBytes = 1024 * 1024;

bool is_action(const std::string& word) { return std::find(kActions.begin(), kActions.end(), word) != kActions.end(); }

bool asks_for_help(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
}

// Boost tells options from operands here exactly as the shared parser will
// (which options take a value, `--`), given a positional slot to fill.
po::parsed_options parse_with_operands(const std::vector<std::string>& args) {
  po::options_description desc = command_description(Command::keys);
  desc.add_options()(kOperand.data(), po::value<std::vector<std::string>>());
  po::positional_options_description positional;
  positional.add(kOperand.data(), -1);
  namespace style = po::command_line_style;
  try {
    return po::command_line_parser(args).options(desc).positional(positional)
        .style(style::default_style & ~style::allow_guessing).run();
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
}

void check_operands(const KeysRequest& r) {
  const std::size_t n = r.operands.size();
  if (r.action == "add" && n > 1) throw UsageError("keys add takes one FILE at most (or - for standard input)");
  if (r.action == "remove" && n != 1)
    throw UsageError("keys remove takes one FINGERPRINT (SHA256:..., as `gateway keys list` prints it)");
  if ((r.action == "list" || r.action == "clear" || r.action == "host-secret") && n != 0)
    throw UsageError("keys " + r.action + " takes no argument ('" + mapping::printable(r.operands.front()) + "')");
}

// Only the users matter here: a broken mapping rule must not stop an admin
// from fixing keys (serve and check still report it). Given none, the users
// of the gateway serving with this state folder (as `gateway status` and
// `reload` find it), so keys need no copy of the configuration.
std::vector<mapping::User> configured_users(const Settings& settings) {
  const std::vector<mapping::Item> items =
      settings.input.users.empty() ? served_users(settings.state_dir) : settings.input.users;
  const mapping::Parsed parsed = mapping::parse(mapping::Input{items, {}});
  if (!parsed.ok()) {
    const std::size_t more = parsed.problems.size() - 1;
    throw UsageError(parsed.problems.front().line() +
                     (more > 0 ? " (and " + std::to_string(more) + " more; see 'gateway check')" : ""));
  }
  return parsed.model.users;
}

const std::string& required_user(const KeysRequest& r) {
  if (r.user.empty()) throw UsageError("keys " + r.action + " needs --user USER");
  return r.user;
}

std::string describe(const AuthorizedKey& key) {
  return key.type + " " + std::to_string(key.bits) + " " + key.fingerprint +
         (key.comment.empty() ? "" : " " + mapping::printable(key.comment));
}

std::string read_capped(std::istream& in, const std::string& label) {
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxInputBytes) throw UsageError(label + " is larger than 1 MiB; that is no list of public keys");
  }
  if (in.bad()) throw ExitError(exit_code::failure, "cannot read " + label);
  return text;
}

int add(KeyStore& store, const KeysRequest& r, std::istream& in, std::ostream& out) {
  const bool from_stdin = r.operands.empty() || r.operands.front() == "-";
  const std::string label = from_stdin ? "stdin" : mapping::printable(r.operands.front());
  std::string text;
  if (from_stdin) {
    if (&in == &std::cin && ::isatty(STDIN_FILENO)) std::cerr << "Paste the public key(s), then press Ctrl-D.\n";
    text = read_capped(in, label);
  } else {
    std::ifstream file(r.operands.front(), std::ios::binary);
    if (!file) throw UsageError("cannot read " + label + ": " + std::strerror(errno));
    text = read_capped(file, label);
  }
  const std::vector<AuthorizedKey> keys = parse_keys(text, label);  // all lines valid, or nothing changes
  if (keys.empty()) throw UsageError("no key in " + label + " (expected lines like 'ssh-ed25519 AAAA... comment')");
  for (const AddedKey& a : store.add(keys))
    out << (a.already_present ? "already present " : "added ") << store.user() << ' ' << describe(a.key) << '\n';
  return exit_code::ok;
}

void list_json(const std::vector<std::pair<std::string, std::vector<AuthorizedKey>>>& all, std::ostream& out) {
  JsonWriter json(out);
  json.begin_object().key("users").begin_array();
  for (const auto& [user, keys] : all) {
    json.begin_object().field("name", user).key("keys").begin_array();
    for (const AuthorizedKey& k : keys) {
      json.begin_object().field("type", k.type).field("bits", k.bits).field("fingerprint", k.fingerprint);
      json.field("comment", k.comment).end_object();
    }
    json.end_array().end_object();
  }
  json.end_array().end_object();
  json.finish();
}

int list(const Settings& settings, const std::vector<mapping::User>& users, std::ostream& out) {
  std::vector<std::string> names;
  if (!settings.keys.user.empty()) names.push_back(settings.keys.user);  // KeyStore refuses an unknown one
  for (const mapping::User& u : users) {
    if (settings.keys.user.empty()) names.push_back(u.name);
  }
  std::vector<std::pair<std::string, std::vector<AuthorizedKey>>> all;
  for (const std::string& name : names) all.emplace_back(name, KeyStore(settings.state_dir, name, users).list());
  if (settings.format == Format::json) {
    list_json(all, out);
    return exit_code::ok;
  }
  for (const auto& [user, keys] : all) {
    if (keys.empty()) out << user << " (no keys)\n";
    for (const AuthorizedKey& k : keys) out << user << ' ' << describe(k) << '\n';
  }
  return exit_code::ok;
}

}  // namespace

KeysRequest take_keys_request(std::vector<std::string>& args) {
  KeysRequest request;
  if (asks_for_help(args)) {
    args = {"--help"};  // the shared parser prints the help, whatever else was given
    return request;
  }
  if (args.empty() || args.front().starts_with('-')) {
    if (std::any_of(args.begin(), args.end(), is_action))
      throw UsageError("keys: the action comes first: gateway keys add|list|remove|clear|host-secret [options]");
    throw UsageError("keys: missing action (add, list, remove, clear or host-secret); see 'gateway keys --help'");
  }
  request.action = args.front();
  if (!is_action(request.action)) {
    throw UsageError("unknown keys action '" + mapping::printable(request.action) +
                     "' (add, list, remove, clear or host-secret); see 'gateway keys --help'");
  }
  const po::parsed_options parsed = parse_with_operands({args.begin() + 1, args.end()});
  args.clear();
  for (const po::option& o : parsed.options) {
    if (o.string_key == kOperand) {
      request.operands.insert(request.operands.end(), o.value.begin(), o.value.end());
      continue;
    }
    if (o.string_key == "user" && !o.value.empty()) {
      if (!request.user.empty()) throw UsageError("--user given twice; keys changes one user at a time");
      request.user = o.value.front();
    }
    if (o.string_key == "secret-name" && !o.value.empty()) request.secret_name = o.value.front();
    if (o.string_key == "namespace" && !o.value.empty()) request.namespace_name = o.value.front();
    if (o.string_key == "from-state") request.from_state = true;
    args.insert(args.end(), o.original_tokens.begin(), o.original_tokens.end());
  }
  check_operands(request);
  return request;
}

std::string keys_usage() {
  return "Usage: gateway keys add --user USER [FILE|-] [options]   (default: read standard input)\n"
         "       gateway keys list [--user USER] [--format text|json] [options]\n"
         "       gateway keys remove --user USER FINGERPRINT [options]\n"
         "       gateway keys clear --user USER [options]\n"
         "       gateway keys host-secret [--secret-name NAME] [--namespace NS] [--from-state] [options]\n"
         "One OpenSSH public key per line (a .pub file, or `ssh-add -L`): ssh-ed25519, or ssh-rsa of at\n"
         "least 3072 bits, without options. A running `gateway serve` sees a change at the next login.\n"
         "Users: --users, SFTP_USERS or --config; given none, those of the gateway serving with --state-dir.\n"
         "host-secret prints the host keys as a Kubernetes Secret (new ones, or --state-dir's with --from-state)\n"
         "for --host-keys-dir, so every replica has the same; fingerprints and known_hosts lines go to stderr.\n";
}

int run_keys(const Settings& settings, std::istream& in, std::ostream& out) {
  const KeysRequest& r = settings.keys;
  if (r.action == "host-secret") return print_host_secret(settings, out, std::cerr);  // needs no users
  const std::vector<mapping::User> users = configured_users(settings);
  if (r.action == "list") return list(settings, users, out);
  KeyStore store(settings.state_dir, required_user(r), users);
  if (r.action == "add") return add(store, r, in, out);
  if (r.action == "remove") {
    const AuthorizedKey removed = store.remove(r.operands.front());  // before any output: it may throw
    out << "removed " << store.user() << ' ' << describe(removed) << '\n';
    return exit_code::ok;
  }
  if (r.action == "clear") {
    const std::size_t n = store.clear();
    out << "cleared " << store.user() << " (" << n << (n == 1 ? " key" : " keys") << " removed)\n";
    return exit_code::ok;
  }
  throw UsageError("unknown keys action '" + mapping::printable(r.action) + "'");
}

}  // namespace gw::gateway
