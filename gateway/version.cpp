#include "gateway/version.hpp"

// Defined for this file only (gateway/CMakeLists.txt), so a version bump
// recompiles one file.
#ifndef GATEWAY_VERSION
#error "GATEWAY_VERSION must be defined by the build"
#endif

namespace gw::gateway {

std::string_view version() { return GATEWAY_VERSION; }

}  // namespace gw::gateway
