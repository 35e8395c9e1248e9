// The values inside configuration items and options that are more than a
// name: sizes (quota=, --home-quota), counts (files=, --home-files), umasks
// (umask=, --umask) and sets of event kinds (events=, --event-kinds). Rules, users and the command line read them
// here, so each one is read, refused and rendered one way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model.hpp"

namespace gw::mapping {

// A value read from configuration text, or why it is not valid: a message
// that starts with `what` (the option's name), e.g. "quota '5X' has an
// unknown suffix 'X'; ...", for the caller to put after its source.
template <typename T>
struct ValueRead {
  std::optional<T> value;
  std::string problem;  // empty when value is set
};

// The largest size or count a limit may have: what off_t (st_size) holds.
inline constexpr std::uint64_t kMaxAmount = 9223372036854775807u;

// Decimal bytes with an optional 1024-based suffix: K, M, G or T (k, m, g, t
// and KiB, MiB, GiB, TiB read the same). 1 to kMaxAmount: a limit of 0
// would refuse every write, and "no limit" is said by leaving it out.
// "GB" and "B" are refused rather than guessed (1000 or 1024?).
ValueRead<std::uint64_t> read_size(std::string_view text, std::string_view what);

// A decimal count from 1 to kMaxAmount.
ValueRead<std::uint64_t> read_count(std::string_view text, std::string_view what);

// 3 or 4 octal digits, 000 to 0777 ("027", "0027").
ValueRead<std::uint32_t> read_umask(std::string_view text, std::string_view what);

// Event kind names (mapping/event_kinds.hpp) joined by `separator` ('+' in
// a rule, whose items ',' separates; ',' on the command line), or "none"
// alone. Every name once; a misspelt one gets a suggestion.
ValueRead<EventKinds> read_event_kinds(std::string_view text, std::string_view what, char separator);

// The shortest text read_size reads back as `bytes`: the largest suffix that
// divides it exactly ("5G" for 5368709120, "1000" for 1000).
std::string render_size(std::uint64_t bytes);

// Four octal digits: "0027".
std::string render_umask(std::uint32_t umask);

// A limit as options: "quota=5G:files=1000", "quota=1G", "" for none.
std::string render_limit(const Limit& limit);

}  // namespace gw::mapping
