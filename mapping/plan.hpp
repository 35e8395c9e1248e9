// The per-user plan: what the view shows each user and what backs it.
// Pure: it names backing paths but never touches them.
#pragma once

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
  bool operator==(const UserPlan&) const = default;
};

struct Plan {
  std::vector<UserPlan> users;  // in the order users were given
  const UserPlan* find(std::string_view user) const;
  bool operator==(const Plan&) const = default;
};

Plan make_plan(const Model& model, const Paths& paths);

}  // namespace gw::mapping
