// The start-up banner serve logs first: the version and the effective
// options, so every log begins by saying what this process was told to do.
#pragma once

#include <string>
#include <vector>

#include "gateway/options/options.hpp"

namespace gw::gateway {

std::vector<std::string> banner_lines(const Settings& settings);

// Logs banner_lines() at info.
void log_banner(const Settings& settings);

}  // namespace gw::gateway
