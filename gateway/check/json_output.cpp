#include "gateway/check/output.hpp"
#include "gateway/json_writer.hpp"

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

}  // namespace

void print_json(const CheckReport& report, std::ostream& out) {
  JsonWriter json(out);
  json.begin_object().field("ok", true);
  json.key("users").begin_array();
  for (const UserReport& user : report.users) user_json(json, user);
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
