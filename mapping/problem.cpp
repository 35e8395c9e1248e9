#include "problem.hpp"

#include <cstdint>

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

// Length (2..4) of the well-formed UTF-8 sequence at text[i] and its code
// point, or 0 if the bytes there are not one (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF).
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

// Code points that break a line or change how the rest of it is shown:
// C1 controls (NEL), zero-width and direction marks, line and paragraph
// separators, bidi embeddings/overrides/isolates ("Trojan Source"), BOM.
bool is_hidden(std::uint32_t c) {
  return (c >= 0x80 && c <= 0x9F) || c == 0x061C || (c >= 0x200B && c <= 0x200F) ||
         (c >= 0x2028 && c <= 0x202E) || (c >= 0x2060 && c <= 0x2069) || c == 0xFEFF;
}

void escape_byte(std::string& out, unsigned char byte) {
  switch (byte) {
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\\': out += "\\\\"; return;
    default: break;
  }
  static constexpr char hex[] = "0123456789abcdef";
  out += "\\x";
  out += hex[byte >> 4];
  out += hex[byte & 0x0F];
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7F && byte != '\\') {
      out += text[i++];
      continue;
    }
    std::uint32_t code_point = 0;
    const std::size_t length = byte >= 0x80 ? utf8_sequence(text, i, code_point) : 0;
    if (length > 0 && !is_hidden(code_point)) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    // Escape the whole sequence of a hidden code point, else just this byte
    // and resynchronise at the next one.
    const std::size_t end = i + (length > 0 ? length : 1);
    for (; i < end; ++i) escape_byte(out, static_cast<unsigned char>(text[i]));
  }
  return out;
}

std::string clip(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  std::size_t end = limit;
  // Never end inside a UTF-8 sequence (at most 3 continuation bytes follow
  // its lead byte): a character is shown whole or not at all.
  for (int back = 0; back < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0u) == 0x80u; ++back) --end;
  return std::string(text.substr(0, end)) + "...";
}

std::string excerpt(std::string_view text, std::size_t limit) { return printable(clip(text, limit)); }

std::string Problem::line() const {
  std::string out = printable(source);
  if (!text.empty()) out += (out.empty() ? "'" : ": '") + excerpt(text) + "'";
  return out + (out.empty() ? "" : ": ") + printable(message);
}

}  // namespace gw::mapping
