#include "fs/event.hpp"

#include "fs/errno_name.hpp"
#include "fs/json.hpp"

namespace gw::fs {
namespace {

// Appends ,"key":"value" (value quoted the one way, fs/json.hpp).
void add(std::string& line, std::string_view key, std::string_view value) {
  line += ",\"";
  line += key;
  line += "\":";
  append_json_quoted(line, value);
}

// The same, only for a fact this event has.
void add_set(std::string& line, std::string_view key, std::string_view value) {
  if (!value.empty()) add(line, key, value);
}

}  // namespace

std::string event_json(const Event& e, std::string_view id, std::string_view time) {
  std::string line = "{\"id\":";
  line.reserve(256);
  append_json_quoted(line, id);
  add(line, "kind", event_kind_name(e.kind));
  add(line, "time", time);
  add(line, "user", e.user);
  add(line, "mapping", e.mapping);
  add(line, "volume", e.volume);
  add(line, "path", e.path);
  add(line, "volume_path", e.volume_path);
  add_set(line, "to", e.to);
  add_set(line, "to_volume_path", e.to_volume_path);
  if (e.size) line += ",\"size\":" + std::to_string(*e.size);
  if (e.replaced) line += *e.replaced ? ",\"replaced\":true" : ",\"replaced\":false";
  add_set(line, "type", e.type);
  add_set(line, "op", e.op);
  add_set(line, "reason", e.reason);
  if (e.err != 0) add(line, "error", errno_name(e.err));
  line += '}';
  return line;
}

}  // namespace gw::fs
