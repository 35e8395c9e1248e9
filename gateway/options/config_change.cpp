#include "gateway/options/config_change.hpp"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "gateway/options/config_file.hpp"
#include "mapping/parse.hpp"

namespace gw::gateway {
namespace {

int count_lines(std::string_view text) {
  const auto breaks = std::count(text.begin(), text.end(), '\n');
  return static_cast<int>(breaks) + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

struct Line {
  int number;  // 1-based, in its text
  std::string_view text;
};

std::vector<Line> lines_of(std::string_view part, int first) {
  std::vector<Line> lines;
  for (std::size_t at = 0; at < part.size();) {
    const std::size_t end = std::min(part.find('\n', at), part.size());
    lines.push_back({first + static_cast<int>(lines.size()), part.substr(at, end - at)});
    at = end + 1;
  }
  return lines;
}

// The items of `lines` (each a `users` or `map` line, a comment or a blank
// one); false when one has any other key or is a line the scan refuses.
bool list_items(const std::string& name, const std::vector<Line>& lines, std::vector<mapping::Item>* users,
                std::vector<mapping::Item>* rules) {
  std::string text;
  for (const Line& l : lines) (text += l.text) += '\n';
  ConfigFile file = scan_config(name, std::move(text));
  if (!file.problems.empty()) return false;
  for (ConfigEntry& e : file.entries) {
    if (!is_list_key(e.key)) return false;
    e.line = lines[static_cast<std::size_t>(e.line - 1)].number;
    const std::string where = file.where(e.line);
    std::vector<mapping::Item> on_line = mapping::split_list(e.value, where);
    if (on_line.size() == 1) on_line.front().source = where;  // as the whole parse names it
    for (mapping::Item& item : on_line) item.line = e.line;
    auto& into = e.key == "users" ? *users : *rules;
    into.insert(into.end(), on_line.begin(), on_line.end());
  }
  return true;
}

// Within the differing parts, the lines both have: a user's `users` line
// and its `map` lines far apart make one long differing part, of which only
// those lines changed. Lines are matched as a multiset; `gone` and `came`
// get the others. False when the lines both have are not in the same order
// in both (a line moved): then all of them count as changed.
bool split_common(const std::vector<Line>& was, const std::vector<Line>& now, std::vector<Line>* gone,
                  std::vector<Line>* came, std::vector<std::pair<int, int>>* kept) {
  std::unordered_map<std::string_view, int> in_now, in_was;
  in_now.reserve(now.size());
  in_was.reserve(was.size());
  for (const Line& l : now) ++in_now[l.text];
  for (const Line& l : was) ++in_was[l.text];
  std::vector<const Line*> kept_was, kept_now;
  for (const Line& l : was) {
    int& left = in_now[l.text];
    if (left > 0) --left, kept_was.push_back(&l);
    else gone->push_back(l);
  }
  for (const Line& l : now) {
    int& left = in_was[l.text];
    if (left > 0) --left, kept_now.push_back(&l);
    else came->push_back(l);
  }
  for (std::size_t k = 0; k < kept_was.size(); ++k) {
    if (kept_was[k]->text != kept_now[k]->text) return false;
    kept->emplace_back(kept_was[k]->number, kept_now[k]->number);
  }
  return true;
}

}  // namespace

int ListsChange::line_now(int line_then) const {
  if (line_then < first_line) return line_then;
  if (line_then >= first_line + old_lines) return line_then + new_lines - old_lines;
  const auto it = std::lower_bound(kept_lines.begin(), kept_lines.end(), std::pair<int, int>{line_then, 0});
  return it != kept_lines.end() && it->first == line_then ? it->second : 0;
}

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
  const std::vector<Line> was_lines = lines_of(was, out.first_line);
  const std::vector<Line> now_lines = lines_of(now, out.first_line);
  std::vector<Line> gone, came;
  if (!split_common(was_lines, now_lines, &gone, &came, &out.kept_lines)) {
    gone = was_lines;
    came = now_lines;
    out.kept_lines.clear();
  }
  if (!list_items(name, gone, &out.items.removed_users, &out.items.removed_rules) ||
      !list_items(name, came, &out.items.added_users, &out.items.added_rules))
    return std::nullopt;
  return out;
}

}  // namespace gw::gateway
