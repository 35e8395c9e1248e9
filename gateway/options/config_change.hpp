// What a reload finds changed in the config file: when nothing but `users`
// and `map` lines changed, the items that left and came in, so the worker
// can change just those users (mapping/change.hpp). The two texts are
// compared from both ends, so the cost is a pass over the bytes, never a
// parse of the unchanged lines.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mapping/change.hpp"

namespace gw::gateway {

struct ListsChange {
  int first_line = 0;  // the first line that differs (1-based)
  int old_lines = 0;   // lines the differing part had, and has now
  int new_lines = 0;
  mapping::Change items;  // each item with its line, and a source naming it ("gateway.conf line 7")
  // The lines of the differing part that are in both texts, in order:
  // (line then, line now). Lines before the part keep their numbers; lines
  // after it move by new_lines - old_lines.
  std::vector<std::pair<int, int>> kept_lines;

  // Where a line that stays is now; 0 for a line that left.
  int line_now(int line_then) const;
};

// nullopt when any other line changed (a scalar key, a line the scan would
// refuse): the caller reads the whole file again. `name` is the file's, as
// messages name it.
std::optional<ListsChange> lists_change(const std::string& name, std::string_view old_text, std::string_view new_text);

}  // namespace gw::gateway
