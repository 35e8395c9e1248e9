// The three sources of configuration, parsed but kept apart, so that every
// value can still say where it came from ("--map item 2", "SFTP_VOLUMES
// item 2", "gateway.conf line 7") after Boost has merged them.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/variables_map.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gateway/options/config_file.hpp"
#include "mapping/model.hpp"

namespace gw::gateway {

struct Sources {
  // Parsed options point at the options_description they were parsed with,
  // which must outlive them.
  std::optional<boost::program_options::parsed_options> cli;
  std::optional<boost::program_options::parsed_options> env;
  std::optional<boost::program_options::parsed_options> file;
  std::optional<ConfigFile> config;  // when --config was given
};

// Guessing abbreviations is off (--por is not --port) and stray positional
// arguments are errors. Throws UsageError.
boost::program_options::parsed_options parse_cli(const std::vector<std::string>& args,
                                                 const boost::program_options::options_description& desc);

// SFTP_USERS, SFTP_VOLUMES and SFTP_PORT; every other variable is ignored,
// and so is a variable set to blanks.
boost::program_options::parsed_options parse_env(const boost::program_options::options_description& desc);

// The file's entries as Boost parses them. An unknown key becomes a problem
// naming its line (added to `problems`), and its option is left out.
boost::program_options::parsed_options parse_file(const ConfigFile& file,
                                                  const boost::program_options::options_description& desc,
                                                  std::vector<std::string>& problems);

enum class Source { cli, env, file };

// Stores one source into vm. Store in precedence order, highest first: Boost
// keeps the first value stored for a key. Every value Boost would refuse (a
// bad number, a repeated single-valued key) becomes a problem naming its
// source and is left out of the source, so the rest is still stored and one
// run names every bad line; Boost itself stops at the first.
std::vector<std::string> store_source(Sources& sources, Source which, boost::program_options::variables_map& vm);

// The items of a list key (users, map) from the highest source giving it,
// each labelled with where it came from. Lower sources are ignored entirely.
std::vector<mapping::Item> source_items(const Sources& sources, const std::string& key);

// Whether neither the command line nor the environment gives the key: the
// config file alone decides it, so a changed file changes it.
bool file_decides(const Sources& sources, const std::string& key);

// Where a key's effective value came from: "--port", "SFTP_PORT",
// "gateway.conf line 3", or "default".
std::string where(const Sources& sources, const std::string& key);

}  // namespace gw::gateway
