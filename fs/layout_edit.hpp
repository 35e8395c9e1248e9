// A reload that adds, changes or removes a few users, applied to the served
// tree in place: those users' trees are built (reusing what a changed user
// keeps, the same way a whole build does) and swapped into data/, and their
// etc/ files put in or taken out. The work follows the users changed, not
// all users served, so a gateway of 100,000 users adds one in milliseconds.
//
// All or nothing: anything the edit cannot do by itself (a folder that
// cannot be served, a limited folder, a tree that is not as expected)
// changes nothing and returns false; the caller then builds the whole
// layout, which names every problem.
#pragma once

#include <string>
#include <vector>

#include "fs/layout.hpp"

namespace gw::fs {

struct UsersEdit {
  std::vector<mapping::UserPlan> put;      // users added, or whose plan changed
  std::vector<std::string> removed;        // users served no more
  std::vector<SyntheticFile> files;        // etc/ files new or with new content (their folders exist)
  std::vector<std::string> removed_files;  // etc/ files to take out, by path
};

// The contents of edit.files that replace a served file's move into it
// (passwd and group are megabytes at 100,000 users); the rest of `edit` is
// left as it was.
bool edit_layout(View& view, UsersEdit& edit);

}  // namespace gw::fs
