// The report `gateway check` prints: each user's effective tree, node by
// node, with presented and stored owners, the limited folders with what they
// hold, and warnings about the real backing folders. Gathered once; text and
// JSON are two renderings of it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/check/folder_probe.hpp"
#include "gateway/check/limits.hpp"
#include "mapping/model.hpp"
#include "mapping/plan.hpp"

namespace gw::gateway {

enum class NodeKind { synthetic, home, mount };

// Where a node's stored owner comes from.
enum class StoredFrom {
  synthetic,  // the view's own root-owned directories
  user,       // the home: always the user's uid:gid
  rule,       // the rule's owner=UID:GID
  folder,     // the backing folder's current owner
  nobody,     // read-only, the folder is root's: read as nobody (mapping::stored_owner)
  unknown,    // no owner= and the folder cannot be read
};

struct NodeReport {
  std::string path;  // relative to the view, ending in '/': "data/ryan-chroot/ryan/web/"
  NodeKind kind = NodeKind::synthetic;
  std::string presented_name;  // "root" or the user's name
  mapping::Owner presented;
  mapping::Owner stored;  // meaningless when stored_from == unknown
  StoredFrom stored_from = StoredFrom::synthetic;
  std::optional<std::uint32_t> mode;  // the backing folder's permission bits; nullopt: missing
  std::optional<std::uint32_t> umask;  // what new files and folders never get; nullopt: synthetic
  std::string backing;                // empty for synthetic nodes
  FolderState folder;                 // the backing folder as found
  const mapping::MountPlan* mount = nullptr;  // for kind == mount; points into the plan
};

struct UserReport {
  mapping::User user;
  std::vector<NodeReport> nodes;  // parents before children
};

struct Warning {
  std::string subject;  // a node path or "volume <name>"
  std::string message;
};

struct CheckReport {
  std::vector<UserReport> users;
  std::vector<LimitReport> limits;  // each limited folder once, homes and volumes, in plan order
  std::vector<Warning> warnings;
  std::size_t mount_count() const;
};

// Looks at every backing folder (stat by path; see check/folder_probe.hpp),
// counts what each limited folder holds (check/limits.hpp) and adds the
// warnings. For a plan preflight() passed: what serve would refuse
// is a problem there, not a warning here. The report points into plan, which
// must outlive it.
CheckReport gather_report(const mapping::Plan& plan, const mapping::Paths& paths);

// The warnings about the backing folders of the gathered nodes (a home to
// create, unexpected owner, another filesystem, shared read-write).
std::vector<Warning> folder_warnings(const CheckReport& report, const mapping::Paths& paths);

// Shared by both renderings.
std::string octal_mode(std::uint32_t mode);               // "0755"
std::vector<std::string> option_words(const mapping::MountPlan& mount);  // "ro", "owner=1:1", ...
std::string_view kind_name(NodeKind kind);
std::string_view stored_from_name(StoredFrom from);

}  // namespace gw::gateway
