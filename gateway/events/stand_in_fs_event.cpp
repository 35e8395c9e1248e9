// TEMPORARY (branch ev-spool): fs/event.hpp's functions, which fs/event.cpp
// of the ev-fs branch defines, so this branch links and its spool tests
// have lines to read. The lead deletes this file when merging ev-fs (the
// link then fails on the duplicates until it is gone).
#include <array>
#include <string>

#include "fs/event.hpp"
#include "fs/json.hpp"

namespace gw::fs {
namespace {

constexpr std::array<std::string_view, kEventKinds> kNames{"upload", "remove", "rename", "mkdir", "refusal"};

void field(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  append_json_quoted(out, value);
}

}  // namespace

std::string_view event_kind_name(EventKind kind) { return kNames[static_cast<std::size_t>(kind)]; }

std::optional<EventKind> find_event_kind(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<EventKind>(i);
  return std::nullopt;
}

std::string event_json(const Event& e, std::string_view id, std::string_view time) {
  std::string out = "{\"id\":";
  append_json_quoted(out, id);
  field(out, "kind", event_kind_name(e.kind));
  field(out, "time", time);
  field(out, "user", e.user);
  field(out, "mapping", e.mapping);
  field(out, "volume", e.volume);
  field(out, "path", e.path);
  field(out, "volume_path", e.volume_path);
  if (!e.to.empty()) field(out, "to", e.to);
  if (!e.to_volume_path.empty()) field(out, "to_volume_path", e.to_volume_path);
  if (e.size) out += ",\"size\":" + std::to_string(*e.size);
  if (e.replaced) out += std::string(",\"replaced\":") + (*e.replaced ? "true" : "false");
  if (!e.type.empty()) field(out, "type", e.type);
  if (!e.op.empty()) field(out, "op", e.op);
  if (!e.reason.empty()) field(out, "reason", e.reason);
  return out + "}";
}

}  // namespace gw::fs
