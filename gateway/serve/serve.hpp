// `gateway serve`: mount the view and serve it. Implemented with fs/ (the
// FUSE view); returns an exit code from exit_codes.hpp.
#pragma once

#include "gateway/options/options.hpp"

namespace gw::gateway {

int serve(Settings& settings);

}  // namespace gw::gateway
