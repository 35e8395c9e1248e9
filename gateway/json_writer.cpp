#include "gateway/json_writer.hpp"

#include <cstdio>
#include <stdexcept>

namespace gw::gateway {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) { length = 2; min = 0x80; }
  else if (lead >= 0xE0 && lead <= 0xEF) { length = 3; min = 0x800; }
  else if (lead >= 0xF0 && lead <= 0xF4) { length = 4; min = 0x10000; }
  else return 0;
  if (i + length > s.size()) return 0;
  unsigned code = lead & (0x7Fu >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3Fu);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

void append_escaped_ascii(std::string& out, char c) {
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
    out += buf;
  } else {
    out += c;
  }
}

}  // namespace

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      append_escaped_ascii(out, text[i++]);
    } else if (const std::size_t n = utf8_length(text, i); n != 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  return out + "\"";
}

void JsonWriter::newline() {
  out_ << '\n';
  for (std::size_t i = 0; i < levels_.size(); ++i) out_ << "  ";
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (levels_.empty()) return;
  if (levels_.back().object) throw std::logic_error("JsonWriter: a value inside an object needs a key");
  if (!levels_.back().empty) out_ << ',';
  levels_.back().empty = false;
  newline();
}

void JsonWriter::open(char bracket, bool object) {
  before_value();
  out_ << bracket;
  levels_.push_back(Level{object});
}

void JsonWriter::close(char bracket, bool object) {
  if (levels_.empty() || levels_.back().object != object || after_key_) {
    throw std::logic_error("JsonWriter: unbalanced close");
  }
  const bool empty = levels_.back().empty;
  levels_.pop_back();
  if (!empty) newline();
  out_ << bracket;
}

JsonWriter& JsonWriter::begin_object() { open('{', true); return *this; }
JsonWriter& JsonWriter::end_object() { close('}', true); return *this; }
JsonWriter& JsonWriter::begin_array() { open('[', false); return *this; }
JsonWriter& JsonWriter::end_array() { close(']', false); return *this; }

JsonWriter& JsonWriter::key(std::string_view name) {
  if (levels_.empty() || !levels_.back().object || after_key_) {
    throw std::logic_error("JsonWriter: a key outside an object");
  }
  if (!levels_.back().empty) out_ << ',';
  levels_.back().empty = false;
  newline();
  out_ << json_quote(name) << ": ";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
  before_value();
  out_ << json_quote(value);
  return *this;
}

JsonWriter& JsonWriter::number(std::int64_t value) {
  before_value();
  out_ << value;
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  before_value();
  out_ << (value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ << "null";
  return *this;
}

void JsonWriter::finish() {
  if (!levels_.empty() || after_key_) throw std::logic_error("JsonWriter: unclosed container");
  out_ << '\n';
}

}  // namespace gw::gateway
