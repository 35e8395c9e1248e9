#include "gateway/quota_text.hpp"

#include <array>
#include <cstdint>

#include "mapping/values.hpp"

namespace gw::gateway {
namespace {

std::string percent(std::uint64_t used, std::uint64_t limit) {
  // Exact while used * 100 fits in 64 bits (up to 160 PiB); beyond, close enough.
  const std::uint64_t whole = used <= UINT64_MAX / 100
                                  ? used * 100 / limit
                                  : static_cast<std::uint64_t>(static_cast<long double>(used) / limit * 100);
  return " (" + std::to_string(whole) + "%)";
}

}  // namespace

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
  return human_size(used) + " of " + mapping::render_size(*limit) + percent(used, *limit);
}

std::string files_usage(std::uint64_t used, std::optional<std::uint64_t> limit) {
  if (!limit) return std::to_string(used);
  return std::to_string(used) + " of " + std::to_string(*limit) + percent(used, *limit);
}

}  // namespace gw::gateway
