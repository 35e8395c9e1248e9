#include "gateway/json_writer.hpp"

#include <stdexcept>

#include "fs/json.hpp"

namespace gw::gateway {

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
  out_ << fs::json_quote(name) << ": ";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
  before_value();
  out_ << fs::json_quote(value);
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
