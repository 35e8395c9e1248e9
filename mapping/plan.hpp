// The per-user plan: what the view shows each user and what backs it.
// Pure: it names backing paths but never touches them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model.hpp"

namespace gw::mapping {

struct Paths {
  std::string data_dir;     // homes: <data_dir>/<user>
  std::string volumes_dir;  // volumes: <volumes_dir>/<volume>[/<subdir>]
};

// What applies where the configuration says nothing: --home-quota and
// --home-files for every home (each one a user leaves out), --umask for
// every home and every mapping without umask=, --event-kinds for every home
// and every mapping without events=.
struct Defaults {
  Limit home_limit{};
  std::uint32_t umask = 022;
  EventKinds events = kAllEventKinds;
  bool operator==(const Defaults&) const = default;
};

// One mapped folder inside a user's home: `<home>/<name>/`.
struct MountPlan {
  std::string name;
  std::string volume;
  std::string subdir;
  std::string backing;          // <volumes_dir>/<volume>[/<subdir>]
  Access access = Access::read_write;
  std::optional<Owner> owner;   // explicit stored owner; else the backing dir's owner
  bool symlinks = false;
  bool atomic = true;
  Limit limit{};                // the folder's: from whichever rule limits it (one folder, one limit)
  std::uint32_t umask = 022;    // the rule's umask=, else Defaults::umask
  EventKinds events = kAllEventKinds;  // the rule's events=, else Defaults::events
  bool operator==(const MountPlan&) const = default;
};

// One user's chroot: `data/<user>-chroot/<user>/` is the home (backed by
// <data_dir>/<user>, stored owner the user), the mounts inside it.
struct UserPlan {
  User user;
  std::string chroot;        // "data/<user>-chroot" (relative to the view's root)
  std::string home;          // "data/<user>-chroot/<user>"
  std::string home_backing;  // <data_dir>/<user>
  std::vector<MountPlan> mounts;
  Limit home_limit{};            // each of the user's quota= and files=, else Defaults::home_limit's
  std::uint32_t home_umask = 022;  // Defaults::umask
  EventKinds home_events = kAllEventKinds;  // Defaults::events
  bool operator==(const UserPlan&) const = default;
};

struct Plan {
  std::vector<UserPlan> users;  // in the order users were given
  const UserPlan* find(std::string_view user) const;
  bool operator==(const Plan&) const = default;
};

Plan make_plan(const Model& model, const Paths& paths, const Defaults& defaults = {});

// The parts make_plan is made of, for a change to a few users
// (mapping/change.hpp): a user's plan without its mounts, and one rule's
// mount given the limit of its folder.
UserPlan plan_user(const User& user, const Paths& paths, const Defaults& defaults);
MountPlan plan_mount(const Rule& rule, const Paths& paths, const Limit& limit, const Defaults& defaults);

// The name of a limited folder, as `check`, `status` and the usage file
// (<state-dir>/quota.json) show it: "vol" or "vol/sub" for a volume's
// folder, "~user" for a home (home_key). Rules naming the same folder give
// the same key (parse() has removed trailing slashes).
std::string folder_key(std::string_view volume, std::string_view subdir);
std::string home_key(std::string_view user);

// Who a mapping acts as on disk, its stored owner: files it creates belong to
// it, objects owned by it are presented as the user's, and every access
// inside the mapping runs with its ids. One judgement, used by the view
// (fs/layout.cpp) and by `gateway check`.
enum class OwnerFrom {
  rule,    // owner=UID:GID
  folder,  // the mapped folder's owner
  nobody,  // read-only, the folder's owner is root: read as nobody
};

struct StoredOwner {
  Owner owner;
  OwnerFrom from = OwnerFrom::folder;
  std::string refusal;  // non-empty: the mapping cannot be served, and why
};

// The overflow id (nobody/nogroup), which no sftp user may have.
inline constexpr std::uint32_t kNobody = 65534;

// owner= when given, else `folder` (the mapped folder's owner). Never root:
// a writable mapping of a folder owned by root (uid or gid 0) without owner=
// is refused, since files would be stored as root; a read-only one stores
// nothing and reads as nobody where the folder says root, so root's files
// keep showing as root's and the user reads what any other account may.
StoredOwner stored_owner(Access access, const std::optional<Owner>& owner, Owner folder);

}  // namespace gw::mapping
