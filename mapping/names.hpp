// Name rules shared by validation and the view.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::mapping {

// A single path component a user or a rule may use: not empty, not "." or
// "..", no '/' or NUL, at most 255 bytes. Returns why not, or nullopt.
std::optional<std::string> single_name_problem(std::string_view name);

// Docker's volume name syntax: [a-zA-Z0-9][a-zA-Z0-9_.-]*
bool is_volume_name(std::string_view name);

// Account names sshd and the passwd file accept: [a-z_][a-z0-9_-]{0,31}.
bool is_user_name(std::string_view name);

// Names of system accounts an sftp user must not take (root, sshd, nobody, ...).
bool is_reserved_user_name(std::string_view name);

// The candidate closest to `name` by edit distance, if it is close enough to
// be a plausible typo (distance <= 2 and less than the name's length).
std::optional<std::string> closest(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace gw::mapping
