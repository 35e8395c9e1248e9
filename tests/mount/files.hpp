// Plain file-system helpers for the mount tier, used by the test process
// itself (as root) to prepare backing stores and to inspect what landed
// there. Each throws on failure: a broken setup must never look like a
// passing check.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace gw::mount_test {

constexpr long kFuseMagic = 0x65735546;

// sshd refuses a chroot below any folder that is not root's or that group or
// others may write (/tmp), and the gateway refuses to mount its view there:
// mountpoints live in this root-owned 0755 folder instead.
inline constexpr const char* kMountBase = "/run/gw-mount";

// A fresh folder made by mkdtemp under `base` (/tmp, or kMountBase, which is
// made root-owned 0755 first), mode 0755 so the test users can traverse it.
// On destruction everything mounted below it is detached first, then the
// tree is removed (never following symlinks).
class TempTree {
 public:
  explicit TempTree(const std::string& base = "/tmp");
  ~TempTree();
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// "ENOENT" for ENOENT, "ok" for 0.
std::string errno_name(int err);

void make_dir(const std::string& path, uid_t uid, gid_t gid, mode_t mode);
void write_file(const std::string& path, const std::string& content, uid_t uid = 0, gid_t gid = 0,
                mode_t mode = 0644);
std::string read_file(const std::string& path);
struct stat lstat_of(const std::string& path);
bool exists(const std::string& path);  // lstat succeeds (a dangling symlink exists)
std::string read_link(const std::string& path);
// The names in a folder, sorted, without "." and "..".
std::vector<std::string> names_in(const std::string& dir);

// statfs(path).f_type, or -errno when statfs fails (ENOTCONN: a dead mount).
long fs_type(const std::string& path);
bool is_fuse(const std::string& path);
// Anything at all is mounted at `path` (a FUSE view, a bind mount).
bool is_mount_point(const std::string& path);

// "reg 0644 61000:61000 size=5 nlink=1": what a user can compare of two
// objects on different filesystems (no inode, device or times).
std::string describe(const struct stat& st);

// Detaches every mount at or below `path`, deepest first.
void unmount_below(const std::string& path);

}  // namespace gw::mount_test
