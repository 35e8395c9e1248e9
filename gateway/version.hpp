// The gateway's version, from project(VERSION) in the top CMakeLists.txt.
#pragma once

#include <string_view>

namespace gw::gateway {

std::string_view version();

}  // namespace gw::gateway
