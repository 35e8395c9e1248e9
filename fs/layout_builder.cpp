#include "fs/layout_builder.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>


namespace gw::fs::detail {

InodePtr synthetic_dir(View& view, fuse_ino_t id, uid_t only_uid) {
  auto node = std::make_shared<Inode>();
  node->id = id ? id : view.inodes().next_id();
  node->synthetic = std::make_shared<Synthetic>();
  node->synthetic->only_uid = only_uid;
  return node;
}

std::string errno_text(int err) { return std::strerror(err); }

std::vector<std::string> split_path(const std::string& path) {
  std::istringstream parts(path);
  std::vector<std::string> names;
  for (std::string part; std::getline(parts, part, '/');)
    if (!part.empty()) names.push_back(part);
  return names;
}

// The folder of the homes (the data dir, from trusted configuration),
// opened once per build: every home is made and checked relative to it.
sys::Result<UniqueFd> open_data_dir(const std::string& path) {
  return sys::openat(AT_FDCWD, path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW);
}

// The folder <data dir> of a home <data dir>/<user> (mapping::make_plan).
std::string data_dir_of(const mapping::UserPlan& up) {
  const std::size_t name_at = up.home_backing.size() - up.user.name.size();
  if (name_at == 0) return ".";
  return name_at == 1 ? "/" : up.home_backing.substr(0, name_at - 1);
}

// The user's home <data dir>/<name>: an existing folder is kept as it is; a
// missing one is made 0700 by root, then given its owner and mode through a
// descriptor of the folder just made, never by path, so nobody can use it
// before it has its final owner and a name swapped meanwhile for a symlink
// redirects nothing. Anything but a folder under that name (a symlink, a
// file) is refused (ELOOP, ENOTDIR), never followed.
int ensure_home(int proc_fd, int data_dir, const std::string& name, const mapping::User& user) {
  const int made = sys::mkdirat(data_dir, name.c_str(), 0700);
  if (made != 0 && made != EEXIST) return made;
  auto home = sys::openat(data_dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW);
  if (!home.ok()) return home.err;
  if (made == EEXIST) return 0;
  int err = sys::fchown_fd(home.value.get(), user.uid, user.gid);
  if (!err) err = sys::fchmod_via_proc(proc_fd, home.value.get(), 0750);
  if (err) sys::unlinkat(data_dir, name.c_str(), AT_REMOVEDIR);  // still empty: nobody could enter it
  return err;
}

// The file node at `names` in the currently served tree, to keep file
// inodes stable across reloads. Served folders are read under their lock
// (Synthetic::child), as requests and in-place edits read them.
InodePtr served_file(const View& view, const std::vector<std::string>& names) {
  InodePtr node = view.root();
  for (const auto& n : names) {
    if (!node || !node->synthetic) return nullptr;
    node = node->synthetic->child(n);
  }
  return node && node->synthetic && S_ISREG(node->synthetic->mode) ? node : nullptr;
}


}  // namespace gw::fs::detail
