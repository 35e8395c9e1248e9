// Builds the served tree from a mapping plan: the synthetic chroot skeleton
// (data/, data/<user>-chroot/) and, for every user, the home and mounted
// folders opened through the trusted opener. All or nothing: any problem
// (a missing volume folder, a root-owned volume without owner=) fails the
// whole build, with one line per problem, and a failed build has changed
// nothing: new homes are made and served files get new content only once
// everything else succeeded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fs/backing_fd.hpp"
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

// A mapped folder opened the way the view opens it, and judged the same way:
// by the trusted opener (a rule's subdir walked beneath its volume without
// following a symlink or leaving its filesystem), then its stored owner
// decided by mapping::stored_owner. `gateway check` asks this question too,
// so it refuses exactly what serve refuses.
struct MappedFolder {
  std::optional<BackingFd> fd;   // set when the folder can be served
  struct stat st {};
  mapping::StoredOwner stored;
  std::string problem;           // why it cannot be served ("cannot open ...: ..."); empty when fd is set
};

// backing is <volumes-dir>/<volume>[/<subdir>] (or a home), `subdir` the part
// of it walked confined; owner and access as the rule gives them.
MappedFolder open_mapped_folder(const std::string& backing, const std::string& subdir,
                                const std::optional<mapping::Owner>& owner, mapping::Access access);

// Builds the view's tree for `plan` (taken: each user's plan moves into its
// tree, fs/view.hpp's UserTree), reusing what the served layout has.
LayoutResult build_layout(mapping::Plan plan, const std::vector<SyntheticFile>& files, View& view);

// Gives the served synthetic files new content, when every one of them is
// already served with the same mode and reader; false (nothing changed)
// otherwise, and the caller rebuilds the layout.
bool refresh_files(const std::vector<SyntheticFile>& files, View& view);

// Whether the view's tree was built from exactly `plan`'s users (the order
// aside, which only etc/passwd shows): the layout keeps each user's plan, so
// the caller need not keep a copy of its own.
bool serves_plan(const View& view, const mapping::Plan& plan);

}  // namespace gw::fs
