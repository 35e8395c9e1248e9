// The --event-* options, read from every source like the others and judged
// the same way: each bad value is one problem naming its option. What needs
// the disk or the account database (the secret file, the command, its user)
// is resolved only where it is used: by `check` and by serve's supervisor.
#pragma once

#include <boost/program_options/variables_map.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "gateway/options/options.hpp"

namespace gw::gateway {

// (option key, what is wrong): one problem.
using OptionProblem = std::function<void(const std::string& key, const std::string& what)>;

// --event-url, --event-secret-file, --event-command, --event-command-user,
// --event-timeout, --event-parallel and --event-spool-limit. With `resolve`
// the secret is read and the command and its user are looked up.
EventSettings event_settings(const boost::program_options::variables_map& vm, const OptionProblem& problem,
                             bool resolve);

// --event-kinds: the kinds (mapping::Defaults::events); `none` spools nothing.
std::uint8_t event_kinds(const boost::program_options::variables_map& vm, const OptionProblem& problem);

}  // namespace gw::gateway
