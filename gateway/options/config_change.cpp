#include "gateway/options/config_change.hpp"

#include <algorithm>

#include "gateway/options/config_file.hpp"
#include "mapping/parse.hpp"

namespace gw::gateway {
namespace {

int count_lines(std::string_view text) {
  const auto breaks = std::count(text.begin(), text.end(), '\n');
  return static_cast<int>(breaks) + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

// The items of the `users` and `map` lines of `part`, which starts at line
// `first`; false when it has any other key or a line the scan refuses.
bool list_items(const std::string& name, std::string_view part, int first, std::vector<mapping::Item>* users,
                std::vector<mapping::Item>* rules) {
  ConfigFile file = scan_config(name, std::string(part));
  if (!file.problems.empty()) return false;
  for (ConfigEntry& e : file.entries) {
    if (e.key != "users" && e.key != "map") return false;
    e.line += first - 1;
    const std::string where = file.where(e.line);
    std::vector<mapping::Item> on_line = mapping::split_list(e.value, where);
    if (on_line.size() == 1) on_line.front().source = where;  // as the whole parse names it
    for (mapping::Item& item : on_line) item.line = e.line;
    auto& into = e.key == "users" ? *users : *rules;
    into.insert(into.end(), on_line.begin(), on_line.end());
  }
  return true;
}

}  // namespace

std::optional<ListsChange> lists_change(const std::string& name, std::string_view old_text, std::string_view new_text) {
  // The common prefix, back to a line's start.
  const std::size_t most = std::min(old_text.size(), new_text.size());
  std::size_t prefix = std::mismatch(old_text.begin(), old_text.begin() + most, new_text.begin()).first - old_text.begin();
  if (prefix == most && old_text.size() == new_text.size()) return ListsChange{};
  while (prefix > 0 && old_text[prefix - 1] != '\n') --prefix;
  // The common suffix after it, from a line's start in both texts.
  std::size_t suffix = 0;
  while (suffix < most - prefix && old_text[old_text.size() - 1 - suffix] == new_text[new_text.size() - 1 - suffix])
    ++suffix;
  const auto line_start = [&](std::string_view text) {
    const std::size_t at = text.size() - suffix;
    return at == prefix || text[at - 1] == '\n';
  };
  while (suffix > 0 && !(line_start(old_text) && line_start(new_text))) --suffix;

  ListsChange out;
  out.first_line = 1 + static_cast<int>(std::count(old_text.begin(), old_text.begin() + prefix, '\n'));
  const std::string_view was = old_text.substr(prefix, old_text.size() - suffix - prefix);
  const std::string_view now = new_text.substr(prefix, new_text.size() - suffix - prefix);
  out.old_lines = count_lines(was);
  out.new_lines = count_lines(now);
  if (!list_items(name, was, out.first_line, &out.items.removed_users, &out.items.removed_rules) ||
      !list_items(name, now, out.first_line, &out.items.added_users, &out.items.added_rules))
    return std::nullopt;
  return out;
}

}  // namespace gw::gateway
