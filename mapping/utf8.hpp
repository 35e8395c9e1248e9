// Reading UTF-8 strictly: the one decoder behind every place that shows or
// quotes text from people (problem lines, JSON strings).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gw::mapping {

// Length (2..4) of the well-formed multi-byte UTF-8 sequence at text[i] and
// its code point, or 0 if the bytes there are not one (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF). ASCII bytes answer 0 too:
// callers handle them first.
std::size_t utf8_sequence(std::string_view text, std::size_t i, std::uint32_t& code_point);

}  // namespace gw::mapping
