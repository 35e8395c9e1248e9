#include "gateway/option_sources.hpp"

#include <boost/program_options/errors.hpp>
#include <sstream>

#include "gateway/exit_codes.hpp"
#include "gateway/option_table.hpp"
#include "mapping/parse.hpp"

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

// Boost reports file options in file order, so the k-th occurrence of a key
// is on the line of the k-th entry with that key.
std::vector<mapping::Item> file_items(const ConfigFile& file, const std::vector<std::string>& texts,
                                      const std::string& key) {
  std::vector<mapping::Item> items;
  const std::vector<int> lines = file.lines_of(key);
  for (std::size_t k = 0; k < texts.size(); ++k) {
    const std::string line = file.where(k < lines.size() ? lines[k] : 0);
    std::vector<mapping::Item> on_line = mapping::split_list(texts[k], line);
    if (on_line.size() == 1) on_line.front().source = line;  // "line 7", not "line 7 item 1"
    items.insert(items.end(), on_line.begin(), on_line.end());
  }
  return items;
}

std::string error_key(const po::error_with_option_name& e) {
  std::string key = e.get_option_name();
  key.erase(0, key.find_first_not_of('-'));
  return key;
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
        throw UsageError("unexpected argument '" + token + "'");
      }
    }
    return parsed;
  } catch (const po::error& e) {
    throw UsageError(e.what());
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

po::parsed_options parse_file(const ConfigFile& file, const po::options_description& desc) {
  std::istringstream in(file.text);
  try {
    po::parsed_options parsed = po::parse_config_file(in, desc, /*allow_unregistered=*/true);
    for (const po::option& o : parsed.options) {
      if (!o.unregistered) continue;
      throw UsageError(file.where(file.line_of(o.string_key)) + ": unknown key '" + o.string_key +
                       "' (known keys: " + known_keys(desc) + ")");
    }
    return parsed;
  } catch (const po::error& e) {
    throw UsageError(file.name + ": " + e.what());
  }
}

void store_source(const Sources& sources, Source which, po::variables_map& vm) {
  const OptionalParsed& parsed = which == Source::cli ? sources.cli : which == Source::env ? sources.env : sources.file;
  if (!parsed) return;
  try {
    po::store(*parsed, vm);
  } catch (const po::multiple_occurrences& e) {
    const std::string key = error_key(e);
    throw UsageError(error_prefix(sources, which, key, 1) + e.what());  // the second one is too many
  } catch (const po::error_with_option_name& e) {
    const std::string key = error_key(e);
    throw UsageError(error_prefix(sources, which, key, 0) + e.what());
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
}

std::vector<mapping::Item> source_items(const Sources& sources, const std::string& key) {
  if (auto texts = values(sources.cli, key)) return cli_items(*texts, "--" + key);
  if (auto texts = values(sources.env, key)) return mapping::split_list(texts->front(), env_for_key(key));
  if (auto texts = values(sources.file, key)) return file_items(*sources.config, *texts, key);
  return {};
}

std::string where(const Sources& sources, const std::string& key) {
  if (values(sources.cli, key)) return "--" + key;
  if (values(sources.env, key)) return std::string(env_for_key(key));
  if (values(sources.file, key)) return sources.config->where(sources.config->line_of(key));
  return "default";
}

}  // namespace gw::gateway
