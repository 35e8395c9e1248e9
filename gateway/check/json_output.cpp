#include "gateway/check/output.hpp"
#include "gateway/json_writer.hpp"
#include "mapping/values.hpp"

namespace gw::gateway {
namespace {

void owner_fields(JsonWriter& json, const mapping::Owner& owner) {
  json.field("uid", owner.uid).field("gid", owner.gid);
}

void mount_fields(JsonWriter& json, const mapping::MountPlan& mount) {
  json.field("volume", mount.volume).field("subdir", mount.subdir);
  json.field("access", mount.access == mapping::Access::read_only ? "ro" : "rw");
  json.key("options").begin_array();
  for (const std::string& word : option_words(mount)) json.string(word);
  json.end_array();
}

void node_json(JsonWriter& json, const NodeReport& node) {
  json.begin_object();
  json.field("path", node.path).field("kind", kind_name(node.kind));
  json.key("presented").begin_object().field("name", node.presented_name);
  owner_fields(json, node.presented);
  json.end_object();
  json.key("stored").begin_object().field("from", stored_from_name(node.stored_from));
  if (node.stored_from != StoredFrom::unknown) owner_fields(json, node.stored);
  json.end_object();
  json.key("mode");
  if (node.mode) json.string(octal_mode(*node.mode));
  else json.null();
  json.key("umask");
  if (node.umask) json.string(mapping::render_umask(*node.umask));
  else json.null();
  if (!node.backing.empty()) {
    json.field("backing", node.backing).field("exists", node.folder.exists);
  }
  if (node.mount) mount_fields(json, *node.mount);
  json.end_object();
}

void user_json(JsonWriter& json, const UserReport& user) {
  json.begin_object().field("name", user.user.name).field("uid", user.user.uid).field("gid", user.user.gid);
  json.key("nodes").begin_array();
  for (const NodeReport& node : user.nodes) node_json(json, node);
  json.end_array().end_object();
}

// A number, or null when there is none (no limit, not counted). Sizes and
// counts stay below 2^63 (mapping::kMaxAmount; st_size is an off_t).
void amount(JsonWriter& json, std::string_view name, std::optional<std::uint64_t> value) {
  json.key(name);
  if (value) json.number(static_cast<std::int64_t>(*value));
  else json.null();
}

// The fields of <state-dir>/quota.json's folders, and what check adds.
void limit_json(JsonWriter& json, const LimitReport& limit) {
  json.begin_object().field("folder", limit.folder).key("mappings").begin_array();
  for (const std::string& m : limit.mappings) json.string(m);
  json.end_array().field("backing", limit.backing);
  amount(json, "bytes", limit.usage ? std::optional(limit.usage->bytes) : std::nullopt);
  amount(json, "bytes_limit", limit.limit.bytes);
  amount(json, "files", limit.usage ? std::optional(limit.usage->files) : std::nullopt);
  amount(json, "files_limit", limit.limit.files);
  json.field("counted", limit.usage.has_value()).field("unreadable", limit.unreadable);
  json.field("problem", limit.problem).end_object();
}

}  // namespace

void print_json(const CheckReport& report, std::ostream& out) {
  JsonWriter json(out);
  json.begin_object().field("ok", true);
  json.key("users").begin_array();
  for (const UserReport& user : report.users) user_json(json, user);
  json.end_array();
  json.key("limits").begin_array();
  for (const LimitReport& limit : report.limits) limit_json(json, limit);
  json.end_array();
  json.key("warnings").begin_array();
  for (const Warning& warning : report.warnings) {
    json.begin_object().field("subject", warning.subject).field("message", warning.message).end_object();
  }
  json.end_array().end_object().finish();
}

void print_problems_json(const mapping::Problems& problems, std::ostream& out) {
  JsonWriter json(out);
  json.begin_object().field("ok", false);
  json.key("problems").begin_array();
  for (const mapping::Problem& problem : problems) {
    json.begin_object().field("source", problem.source).field("text", problem.text);
    json.field("message", problem.message).field("line", problem.line()).end_object();
  }
  json.end_array().end_object().finish();
}

}  // namespace gw::gateway
