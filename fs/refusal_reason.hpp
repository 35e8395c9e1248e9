// Why the view refused something, as a bounded set: the refusal's text is
// for people (logs and the audit trail), its kind is a metrics label. A
// label made of free text would grow with every new message and could carry
// names; this table keeps the set fixed.
//
// Policy::refuse takes a RefusalReason, made from the literal its callers
// have always passed ("read-only mapping"): the literal is looked up here
// while compiling, so a new reason that is not in the table fails the build
// (add a row, with an existing kind or a new one) instead of being counted
// as "other".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gw::fs {

enum class Refusal : std::uint8_t {
  read_only_mapping,   // a write in a :ro mapping
  view_read_only,      // a write in the view's own folders or etc/
  other_user,          // another user's tree or chroot
  quota,               // a folder's limit (EDQUOT)
  open_files,          // the open-handle cap (EMFILE)
  special_file,        // mknod, fifos, sockets, devices
  not_regular_file,    // opening anything but a file or folder
  symlinks_off,        // symlink creation without the rule's `symlinks`
  cross_mapping,       // a hard link or rename between mappings (EXDEV)
  cross_quota_folder,  // ... between differently limited folders (EXDEV)
  link_not_owned,      // a hard link to someone else's file
  mapped_folder,       // removing or renaming a mapped folder (EBUSY)
  reserved_name,       // the names of uploads in progress
  invalid_name,        // a name the view cannot hold
  xattr_namespace,     // xattrs outside user.*
  chown,               // chown/chgrp to anyone but the user
};
inline constexpr std::size_t kRefusals = static_cast<std::size_t>(Refusal::chown) + 1;

std::string_view name(Refusal kind);  // the label: "read_only_mapping"

namespace detail {

struct RefusalText {
  std::string_view text;
  Refusal kind;
};

using R = Refusal;
// Every text a refusal is made with, and its kind (several texts may share one).
inline constexpr std::array kRefusalTexts = {
    RefusalText{"read-only mapping", R::read_only_mapping},
    RefusalText{"the view's own directories and config are read-only", R::view_read_only},
    RefusalText{"another user's tree", R::other_user},
    RefusalText{"another user's chroot", R::other_user},
    RefusalText{"quota", R::quota},
    RefusalText{"too many open files and folders", R::open_files},
    RefusalText{"device nodes, fifos and sockets are not allowed", R::special_file},
    RefusalText{"not a regular file", R::not_regular_file},
    RefusalText{"symlinks are off for this mapping", R::symlinks_off},
    RefusalText{"hard link across mappings", R::cross_mapping},
    RefusalText{"rename across mappings", R::cross_mapping},
    RefusalText{"hard link across limited folders", R::cross_quota_folder},
    RefusalText{"rename across limited folders", R::cross_quota_folder},
    RefusalText{"hard link to a file the user does not own", R::link_not_owned},
    RefusalText{"a mapped folder", R::mapped_folder},
    RefusalText{"name reserved for uploads in progress", R::reserved_name},
    RefusalText{"invalid name", R::invalid_name},
    RefusalText{"xattr outside user.*", R::xattr_namespace},
    RefusalText{"chown/chgrp to anyone but the user", R::chown},
};

// Not constexpr on purpose: reaching it while the compiler evaluates a
// RefusalReason is the error message that says what to do.
void refusal_text_not_in_fs_refusal_reason_hpp();

}  // namespace detail

class RefusalReason {
 public:
  consteval RefusalReason(const char* text) : text_(text), kind_(find(text)) {}  // implicit: callers pass literals
  std::string_view text() const { return text_; }
  Refusal kind() const { return kind_; }

 private:
  static consteval Refusal find(std::string_view text) {
    for (const detail::RefusalText& row : detail::kRefusalTexts)
      if (row.text == text) return row.kind;
    detail::refusal_text_not_in_fs_refusal_reason_hpp();
    return Refusal::read_only_mapping;
  }
  std::string_view text_;
  Refusal kind_;
};

}  // namespace gw::fs
