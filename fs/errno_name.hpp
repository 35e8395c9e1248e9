// An errno by its symbolic name, "EDQUOT", the one way lines the gateway
// writes for machines name one: the audit trail's result and an event's
// error. (Metrics label results from a fixed list instead: fs/metrics.hpp.)
#pragma once

#include <string_view>

namespace gw::fs {

// "ENOENT" for ENOENT; "error" for a number the C library has no name for.
std::string_view errno_name(int err);

}  // namespace gw::fs
