// Builds the served tree from a mapping plan: the synthetic chroot skeleton
// (data/, data/<user>-chroot/) and, for every user, the home and mounted
// folders opened through the trusted opener. All or nothing: any problem
// (a missing volume folder, a root-owned volume without owner=) fails the
// whole build, with one line per problem, and a failed build has changed
// nothing: new homes are made and served files get new content only once
// everything else succeeded.
#pragma once

#include <string>
#include <vector>

#include "fs/view.hpp"
#include "mapping/plan.hpp"

namespace gw::fs {

struct LayoutResult {
  Layout layout;
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};

// Extra read-only files to show in the view, by path ("etc/ssh/sshd_config").
struct SyntheticFile {
  std::string path;
  std::string content;
  mode_t mode = 0444;
  uid_t only_uid = 0;  // non-zero: readable by root and this uid only
};

LayoutResult build_layout(const mapping::Plan& plan, const std::vector<SyntheticFile>& files, View& view);

// Gives the served synthetic files new content, when every one of them is
// already served with the same mode and reader; false (nothing changed)
// otherwise, and the caller rebuilds the layout.
bool refresh_files(const std::vector<SyntheticFile>& files, View& view);

}  // namespace gw::fs
