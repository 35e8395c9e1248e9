// `gateway check`: validate the configuration, then show each user's tree
// as serve would build it, with warnings about the backing folders.
// Reads the disk, writes nothing.
#pragma once

#include <ostream>

#include "gateway/options.hpp"

namespace gw::gateway {

// Exit code 2 with every problem on err (one line each) when the input is
// invalid; else 0 with the report on out (warnings do not change the code).
int run_check(const Settings& settings, std::ostream& out, std::ostream& err);

}  // namespace gw::gateway
