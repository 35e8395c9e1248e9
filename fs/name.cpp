#include "fs/name.hpp"

#include "mapping/names.hpp"

namespace gw::fs {

std::optional<Name> Name::from(std::string_view text) {
  if (mapping::single_name_problem(text)) return std::nullopt;
  return Name(text);
}

}  // namespace gw::fs
