// A small streaming JSON writer for the machine-readable outputs (check,
// later status). Indented two spaces; strings are quoted by fs::json_quote
// (the audit trail's quoting too), so bytes that are not valid UTF-8
// (possible in paths) become U+FFFD and the document stays valid JSON.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace gw::gateway {

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);  // inside an object, before each value
  JsonWriter& string(std::string_view value);
  JsonWriter& number(std::int64_t value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();

  // key(name) and the value in one call, for the common case.
  template <typename Value>
  JsonWriter& field(std::string_view name, const Value& value);

  // Ends the document with a newline; every container must be closed.
  void finish();

 private:
  struct Level {
    bool object;
    bool empty = true;
  };
  void before_value();
  void open(char bracket, bool object);
  void close(char bracket, bool object);
  void newline();

  std::ostream& out_;
  std::vector<Level> levels_;
  bool after_key_ = false;
};

template <typename Value>
JsonWriter& JsonWriter::field(std::string_view name, const Value& value) {
  key(name);
  if constexpr (std::is_same_v<Value, bool>) {
    return boolean(value);
  } else if constexpr (std::is_integral_v<Value>) {
    return number(static_cast<std::int64_t>(value));
  } else {
    return string(value);
  }
}

}  // namespace gw::gateway
