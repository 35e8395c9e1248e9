// Atomic uploads. In a mapping with the `atomic` option, a file created
// through the view is written under a hidden temporary name in the same
// folder and renamed to its real name when the creating handle is closed:
// consumers of the volume never see a partial file under its final name,
// and a killed upload leaves none. Until then the view itself shows the file
// under its final name (lookups, listings, unlink and rename follow it).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fs/inode.hpp"

namespace gw::fs {

class PendingUploads {
 public:
  static constexpr std::string_view kPrefix = ".gw-upload-";
  static bool is_temporary(std::string_view name) { return name.substr(0, kPrefix.size()) == kPrefix; }
  static std::string new_temporary_name();

  void add(fuse_ino_t dir, const std::string& name, const std::string& temporary);
  // The temporary name standing for `name` in `dir`, if an upload is pending.
  std::optional<std::string> temporary_of(fuse_ino_t dir, const std::string& name) const;
  // Final names of the uploads pending in `dir`, keyed by temporary name.
  std::map<std::string, std::string> in(fuse_ino_t dir) const;
  // Forgets the pending upload; returns false if it was no longer pending
  // (it was renamed or removed meanwhile).
  bool finish(fuse_ino_t dir, const std::string& name, const std::string& temporary);

 private:
  mutable std::mutex mu_;  // guards by_name_; never held across a syscall
  std::map<std::pair<fuse_ino_t, std::string>, std::string> by_name_;  // (dir, final name) -> temporary
};

}  // namespace gw::fs
