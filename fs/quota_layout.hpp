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

// The name of a limited folder: "volume" or "volume/subdir" for a rule's,
// "~user" for a home.
std::string quota_folder_name(const std::string& volume, const std::string& subdir);
std::string home_quota_name(const std::string& user);

}  // namespace gw::fs
