// Usage against a limit, as `gateway check` and `gateway status` show it to
// people: "1.5M of 5G (30%)". JSON carries the exact numbers instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gw::gateway {

// Bytes for reading, 1024-based, cut (never rounded up) to one decimal
// below 10: 512 -> "512", 1536 -> "1.5K", 5368709120 -> "5G", 15728640 -> "15M".
std::string human_size(std::uint64_t bytes);

// used / limit in whole percent, cut: 100 means the limit is reached.
std::uint64_t percent(std::uint64_t used, std::uint64_t limit);

// "1.5M of 5G (30%)"; without a limit just "1.5M". The percentage is cut,
// so 100% means the limit is reached; above it (written behind the
// gateway's back) it says so: "6G of 5G (120%)".
std::string bytes_usage(std::uint64_t used, std::optional<std::uint64_t> limit);
// The same for entries: "40 of 100 (40%)", or "40".
std::string files_usage(std::uint64_t used, std::optional<std::uint64_t> limit);

}  // namespace gw::gateway
