#include "fs/name.hpp"

#include <climits>

#include "mapping/names.hpp"

namespace gw::fs {

std::optional<Name> Name::from(std::string_view text) {
  if (mapping::single_name_problem(text)) return std::nullopt;
  return Name(text);
}

bool Name::too_long(std::string_view text) { return text.size() > NAME_MAX; }

}  // namespace gw::fs
