#include "gateway/options/sources.hpp"

#include <boost/program_options/errors.hpp>
#include <map>
#include <unordered_map>
#include <sstream>

#include "gateway/exit_codes.hpp"
#include "gateway/options/table.hpp"
#include "mapping/parse.hpp"
#include "mapping/problem.hpp"

namespace po = boost::program_options;

namespace gw::gateway {
namespace {

using OptionalParsed = std::optional<po::parsed_options>;

bool is_blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

// Every value given for key in one source, in order; nullopt if none.
std::optional<std::vector<std::string>> values(const OptionalParsed& parsed, const std::string& key) {
  if (!parsed) return std::nullopt;
  std::optional<std::vector<std::string>> found;
  for (const po::option& o : parsed->options) {
    if (o.string_key != key) continue;
    if (!found) found.emplace();
    found->insert(found->end(), o.value.begin(), o.value.end());
  }
  return found;
}

std::string known_keys(const po::options_description& desc) {
  std::string out;
  for (const auto& option : desc.options()) out += (out.empty() ? "" : ", ") + option->long_name();
  return out;
}

// Items numbered across all occurrences: `--map a,b --map c` gives items 1-3.
std::vector<mapping::Item> cli_items(const std::vector<std::string>& texts, const std::string& label) {
  std::vector<mapping::Item> items;
  for (const std::string& text : texts) {
    for (mapping::Item& item : mapping::split_list(text, label)) {
      item.source = label + " item " + std::to_string(items.size() + 1);
      items.push_back(std::move(item));
    }
  }
  return items;
}

// The items of every `key` line of the file, in file order, each with its
// line (the list keys never reach Boost: config_file.hpp).
std::vector<mapping::Item> file_items(const ConfigFile& file, const std::string& key) {
  std::vector<mapping::Item> items;
  for (const ConfigEntry& e : file.entries) {
    if (e.key != key) continue;
    const std::string line = file.where(e.line);
    std::vector<mapping::Item> on_line = mapping::split_list(e.value, line);
    if (on_line.size() == 1) on_line.front().source = line;  // "line 7", not "line 7 item 1"
    for (mapping::Item& item : on_line) item.line = e.line;
    items.insert(items.end(), std::make_move_iterator(on_line.begin()), std::make_move_iterator(on_line.end()));
  }
  return items;
}

// The prefix naming the source of an error about the n-th occurrence of key.
std::string error_prefix(const Sources& sources, Source which, const std::string& key, std::size_t n) {
  switch (which) {
    case Source::cli: return "";  // Boost's message already names --key
    case Source::env: return std::string(env_for_key(key)) + ": ";
    case Source::file: return sources.config->where(sources.config->line_of(key, n)) + ": ";
  }
  return "";
}

// The key as a message names it: "--port" on the command line (as Boost's
// own messages do), "port" elsewhere.
std::string shown_key(Source which, const std::string& key) { return (which == Source::cli ? "--" : "") + key; }

// Every option of `parsed` that po::store would refuse, one problem each,
// removed from `parsed`. Each value is parsed as store parses it, into what
// store would build for its key, so a scalar given twice is caught as store
// would catch it. Keys a higher source already gave are skipped, as store
// skips them.
std::vector<std::string> value_problems(const Sources& sources, Source which, po::parsed_options& parsed,
                                        const po::variables_map& vm) {
  std::vector<std::string> problems;
  // Per key, looked up once (a configuration of 10,000 users has 40,000
  // lines of two keys; finding a description scans them all).
  struct Key {
    std::size_t seen = 0;  // occurrences so far
    bool given_above = false;
    const po::option_description* description = nullptr;
    boost::any built;
  };
  std::unordered_map<std::string, Key> keys;
  std::erase_if(parsed.options, [&](const po::option& o) {
    if (o.string_key.empty() || o.unregistered) return false;
    auto [it, first] = keys.try_emplace(o.string_key);
    Key& k = it->second;
    if (first) {
      k.given_above = vm.count(o.string_key) != 0 && !vm[o.string_key].defaulted();
      k.description = parsed.description->find_nothrow(o.string_key, false, false, false);
    }
    const std::size_t n = k.seen++;
    if (k.given_above || k.description == nullptr) return false;
    const po::option_description* d = k.description;
    bool repeated = false;
    try {
      d->semantic()->parse(k.built, o.value, true);
      return false;
    } catch (const po::multiple_occurrences&) {
      repeated = true;
    } catch (const po::error&) {
    }
    // Only for a problem: naming the line scans the file's entries, and doing
    // that for each of 40,000 good lines made parsing quadratic.
    const std::string prefix = error_prefix(sources, which, o.string_key, n);
    const std::string key = shown_key(which, o.string_key);
    if (repeated) {
      problems.push_back(prefix + "option '" + key + "' cannot be specified more than once");
    } else {
      std::string value;
      for (const std::string& v : o.value) value += (value.empty() ? "" : " ") + v;
      problems.push_back(prefix + "the argument ('" + mapping::excerpt(value, mapping::kQuotedPart) +
                         "') for option '" + key + "' is invalid");
    }
    return true;
  });
  return problems;
}

}  // namespace

po::parsed_options parse_cli(const std::vector<std::string>& args, const po::options_description& desc) {
  namespace style = po::command_line_style;
  try {
    // Without a positional description Boost keeps stray arguments as
    // options without a key, so they can be named in the error.
    po::parsed_options parsed = po::command_line_parser(args).options(desc)
        .style(style::default_style & ~style::allow_guessing).run();
    for (const po::option& o : parsed.options) {
      if (o.string_key.empty()) {
        const std::string token = o.original_tokens.empty() ? "" : o.original_tokens.front();
        throw UsageError("unexpected argument '" + mapping::excerpt(token, mapping::kQuotedPart) + "'");
      }
    }
    return parsed;
  } catch (const po::error& e) {
    throw UsageError(mapping::excerpt(e.what()));
  }
}

po::parsed_options parse_env(const po::options_description& desc) {
  po::parsed_options parsed = po::parse_environment(desc, [](const std::string& var) { return key_for_env(var); });
  // Compose files pass `SFTP_VOLUMES=` through as set-but-blank when the
  // admin leaves it empty (the classic setup documents blank as "none"); a
  // blank variable must not hide the config file's value.
  std::erase_if(parsed.options, [](const po::option& o) { return o.value.empty() || is_blank(o.value.front()); });
  return parsed;
}

po::parsed_options parse_file(const ConfigFile& file, const po::options_description& desc,
                              std::vector<std::string>& problems) {
  std::istringstream in(file.entries_text());
  try {
    po::parsed_options parsed = po::parse_config_file(in, desc, /*allow_unregistered=*/true);
    std::map<std::string, std::size_t> seen;  // occurrences so far, to name the right line
    std::erase_if(parsed.options, [&](const po::option& o) {
      const std::size_t n = seen[o.string_key]++;
      if (!o.unregistered) return false;
      problems.push_back(file.where(file.line_of(o.string_key, n)) + ": unknown key '" +
                         mapping::excerpt(o.string_key, mapping::kQuotedPart) + "' (known keys: " + known_keys(desc) + ")");
      return true;
    });
    return parsed;
  } catch (const po::error& e) {
    throw UsageError(file.name + ": " + mapping::excerpt(e.what()));
  }
}

std::vector<std::string> store_source(Sources& sources, Source which, po::variables_map& vm) {
  OptionalParsed& parsed = which == Source::cli ? sources.cli : which == Source::env ? sources.env : sources.file;
  if (!parsed) return {};
  std::vector<std::string> problems = value_problems(sources, which, *parsed, vm);
  try {
    po::store(*parsed, vm);
  } catch (const po::error& e) {  // what value_problems did not foresee: still one line
    problems.push_back(mapping::excerpt(e.what()));
  }
  return problems;
}

std::vector<mapping::Item> source_items(const Sources& sources, const std::string& key) {
  if (auto texts = values(sources.cli, key)) return cli_items(*texts, "--" + key);
  if (auto texts = values(sources.env, key)) return mapping::split_list(texts->front(), env_for_key(key));
  if (sources.config) return file_items(*sources.config, key);
  return {};
}

bool file_decides(const Sources& sources, const std::string& key) {
  return !values(sources.cli, key) && !values(sources.env, key);
}

std::string where(const Sources& sources, const std::string& key) {
  if (values(sources.cli, key)) return "--" + key;
  if (values(sources.env, key)) return std::string(env_for_key(key));
  if (values(sources.file, key)) return sources.config->where(sources.config->line_of(key));
  return "default";
}

}  // namespace gw::gateway
