#include "gateway/quota_text.hpp"

#include <array>
#include <cstdint>

#include "mapping/values.hpp"

namespace gw::gateway {
namespace {

std::string in_parentheses(std::uint64_t used, std::uint64_t limit) {
  return " (" + std::to_string(percent(used, limit)) + "%)";
}

}  // namespace

std::uint64_t percent(std::uint64_t used, std::uint64_t limit) {
  if (limit == 0) return 0;
  // Exact while used * 100 fits in 64 bits (up to 160 PiB); beyond, close enough.
  if (used <= UINT64_MAX / 100) return used * 100 / limit;
  return static_cast<std::uint64_t>(static_cast<long double>(used) / static_cast<long double>(limit) * 100);
}

std::string human_size(std::uint64_t bytes) {
  constexpr std::array<char, 6> units{'K', 'M', 'G', 'T', 'P', 'E'};
  if (bytes < 1024) return std::to_string(bytes);
  std::size_t unit = 0;
  std::uint64_t scale = 1024;
  while (unit + 1 < units.size() && bytes / scale >= 1024) {
    scale *= 1024;
    ++unit;
  }
  const std::uint64_t whole = bytes / scale;
  std::string text = std::to_string(whole);
  if (whole < 10) {
    const std::uint64_t tenth = (bytes % scale) * 10 / scale;  // bytes % scale < 2^60: no overflow
    if (tenth != 0) text += "." + std::to_string(tenth);
  }
  return text + units[unit];
}

std::string bytes_usage(std::uint64_t used, std::optional<std::uint64_t> limit) {
  if (!limit) return human_size(used);
  return human_size(used) + " of " + mapping::render_size(*limit) + in_parentheses(used, *limit);
}

std::string files_usage(std::uint64_t used, std::optional<std::uint64_t> limit) {
  if (!limit) return std::to_string(used);
  return std::to_string(used) + " of " + std::to_string(*limit) + in_parentheses(used, *limit);
}

}  // namespace gw::gateway
