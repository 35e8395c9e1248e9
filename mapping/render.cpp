// The inverse of parse: what an admin would write for a model. Defaults are
// left out and options come in one fixed order, so equal models render equal.
#include "parse.hpp"
#include "values.hpp"

namespace gw::mapping {

namespace {

std::string render_user(const User& user) {
  std::string text = user.name + ":" + std::to_string(user.uid);
  if (user.gid != user.uid) text += ":" + std::to_string(user.gid);
  if (user.limit.any()) text += ":" + render_limit(user.limit);
  return text;
}

template <typename T, typename Render>
std::string join(const std::vector<T>& items, Render render) {
  std::string text;
  for (const T& item : items) {
    if (!text.empty()) text += ',';
    text += render(item);
  }
  return text;
}

}  // namespace

std::string render_users(const std::vector<User>& users) { return join(users, render_user); }

std::string render_rule(const Rule& rule) {
  std::string text = rule.volume;
  if (!rule.subdir.empty()) text += "/" + rule.subdir;
  text += ":" + rule.user + ":" + rule.mount;
  if (rule.access == Access::read_only) text += ":ro";
  if (rule.owner) {
    text += ":owner=" + std::to_string(rule.owner->uid) + ":" + std::to_string(rule.owner->gid);
  }
  if (rule.symlinks) text += ":symlinks";
  if (!rule.atomic) text += ":noatomic";
  if (rule.limit.any()) text += ":" + render_limit(rule.limit);
  if (rule.umask) text += ":umask=" + render_umask(*rule.umask);
  if (rule.events) text += ":events=" + render_event_kinds(*rule.events, '+');
  return text;
}

std::string render_rules(const std::vector<Rule>& rules) { return join(rules, render_rule); }

}  // namespace gw::mapping
