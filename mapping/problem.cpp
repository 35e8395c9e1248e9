#include "problem.hpp"

#include <cstdint>

#include "utf8.hpp"

namespace gw::mapping {

namespace {

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
