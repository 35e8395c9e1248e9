// The limits of a built tree (fs/quota.hpp): which folders are limited,
// the chain of every mapping root, and the counts to run. Called by
// build_layout once the whole build succeeded, so a refused reload changes
// no limit.
#pragma once

#include <map>
#include <string>

#include "fs/view.hpp"

namespace gw::fs {

void apply_quotas(View& view, const std::map<std::string, UserTree>& users);

}  // namespace gw::fs
