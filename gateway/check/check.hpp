// `gateway check`: validate the configuration, then show each user's tree
// as serve would build it, with warnings about the backing folders.
// Reads the disk, writes nothing.
#pragma once

#include <ostream>

#include "gateway/options/options.hpp"

namespace gw::gateway {

// What serve would refuse (check/preflight.hpp) goes to err, one line each, with
// serve's exit code: 2 for the configuration, 3 for a backing folder. Else 0
// with the report on out (warnings do not change the code).
int run_check(const Settings& settings, std::ostream& out, std::ostream& err);

}  // namespace gw::gateway
