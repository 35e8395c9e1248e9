// The gateway process: parse the command line, set up logging, run the
// command. Everything main() does, in the library so tests can call it.
#pragma once

#include <string>
#include <vector>

namespace gw::gateway {

// args: argv without argv[0]. Returns the exit code (exit_codes.hpp); never
// throws: every error ends as "gateway: <what>" on stderr.
int run(const std::vector<std::string>& args);

}  // namespace gw::gateway
