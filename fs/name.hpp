// A single path component that was checked: not empty, not "." or "..", no
// '/'. The only way a user-supplied name reaches a backing syscall.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gw::fs {

class Name {
 public:
  static std::optional<Name> from(std::string_view text);
  // Over NAME_MAX (255 bytes). The kernel hands FUSE names of up to 1024
  // bytes; a local filesystem answers ENAMETOOLONG for such a name in every
  // operation, before anything else, and so does the view.
  static bool too_long(std::string_view text);
  const char* c_str() const { return text_.c_str(); }
  const std::string& str() const { return text_; }

 private:
  explicit Name(std::string_view text) : text_(text) {}
  std::string text_;
};

}  // namespace gw::fs
