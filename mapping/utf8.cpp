#include "utf8.hpp"

namespace gw::mapping {
namespace {

// What a UTF-8 lead byte announces: the sequence length, its payload bits
// and the smallest code point that length may encode (longer is overlong).
struct Lead {
  std::size_t length = 0;
  std::uint32_t bits = 0;
  std::uint32_t smallest = 0;
};

Lead lead_of(std::uint32_t byte) {
  if (byte >= 0xC2 && byte <= 0xDF) return {2, byte & 0x1Fu, 0x80};
  if (byte >= 0xE0 && byte <= 0xEF) return {3, byte & 0x0Fu, 0x800};
  if (byte >= 0xF0 && byte <= 0xF4) return {4, byte & 0x07u, 0x10000};
  return {};
}

}  // namespace

std::size_t utf8_sequence(std::string_view text, std::size_t i, std::uint32_t& code_point) {
  const auto byte = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(text[k]));
  };
  const Lead lead = lead_of(byte(i));
  if (lead.length == 0 || i + lead.length > text.size()) return 0;
  code_point = lead.bits;
  for (std::size_t k = i + 1; k < i + lead.length; ++k) {
    if ((byte(k) & 0xC0u) != 0x80u) return 0;
    code_point = (code_point << 6) | (byte(k) & 0x3Fu);
  }
  const bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
  if (code_point < lead.smallest || code_point > 0x10FFFF || surrogate) return 0;
  return lead.length;
}

}  // namespace gw::mapping
