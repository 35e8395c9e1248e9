// The limits of a built tree (fs/quota.hpp): which folders are limited,
// the chain of every mapping root, and the counts to run. Called by
// build_layout once the whole build succeeded, so a refused reload changes
// no limit.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "fs/view.hpp"

namespace gw::fs {

// `before_counting` runs once the roots have their limits, before any count
// is posted to the background thread (the build sweeps the limited roots
// there first).
void apply_quotas(View& view, const UserTrees& users,
                  const std::function<void()>& before_counting = {});

}  // namespace gw::fs
