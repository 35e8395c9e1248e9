// Confinement as a type. A BackingFd is an O_PATH descriptor of an object
// inside a mapped backing folder. It can only be made by:
//   - open_child: one checked Name below a BackingFd, never following a
//     symlink and never crossing into another filesystem;
//   - open_by_handle: re-opening an object we reached that way before;
//   - open_trusted_root: the mapping's root, from the administrator's
//     configuration, at start-up and reload only.
// Op code therefore cannot open a backing object by an arbitrary path.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "fs/name.hpp"
#include "fs/sys.hpp"
#include "fs/unique_fd.hpp"

namespace gw::fs {

// The kernel's file handle of a backing object (name_to_handle_at), so an
// inode the kernel remembers costs memory, not an open descriptor.
struct FileHandle {
  std::vector<unsigned char> bytes;  // struct file_handle, header included
  bool empty() const { return bytes.empty(); }
};

class BackingFd {
 public:
  int get() const { return fd_.get(); }
  BackingFd(BackingFd&&) = default;
  BackingFd& operator=(BackingFd&&) = default;

 private:
  explicit BackingFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;

  friend sys::Result<BackingFd> open_child(const BackingFd& dir, const Name& name, dev_t dev, struct stat* st);
  friend sys::Result<BackingFd> open_by_handle(int mount_fd, const FileHandle& handle);
  friend sys::Result<BackingFd> open_trusted_root(const std::string& path);
  friend sys::Result<BackingFd> open_trusted_root(const std::string& path, const std::string& beneath);
  friend sys::Result<BackingFd> path_fd_of(int proc_self_fd, int open_fd);
};

using SharedFd = std::shared_ptr<const BackingFd>;

// O_PATH|O_NOFOLLOW of `name` in `dir`; EXDEV when the object lives on a
// filesystem other than `dev` or is a mount point of any kind, bind mounts
// included (a mount inside a volume is never entered). `st`, if given, gets
// the object's fstat, which the device check makes anyway.
sys::Result<BackingFd> open_child(const BackingFd& dir, const Name& name, dev_t dev, struct stat* st = nullptr);

// What open_child would find at `name`, without opening it (one statx): 0
// and the object's type (S_IFMT bits), or the errno open_child would give,
// EXDEV for a mount point of any kind. A listing of names only shows
// exactly the entries a lookup would enter.
int peek_child(const BackingFd& dir, const Name& name, dev_t dev, mode_t* type);

// Needs CAP_DAC_READ_SEARCH: call it with the gateway's own identity.
// `mount_fd` is a real (not O_PATH) fd on the same filesystem: the kernel
// refuses O_PATH fds there.
sys::Result<BackingFd> open_by_handle(int mount_fd, const FileHandle& handle);

// A directory named by trusted configuration; refuses a symlink as the last
// component so a planted link cannot redirect a whole mapping.
sys::Result<BackingFd> open_trusted_root(const std::string& path);

// A rule's subdir (`vol/a/b`): the volume's folder `path` by the trusted
// opener, then `beneath` ("a/b") walked inside it without following any
// symlink or leaving its filesystem, so someone who can write the volume
// cannot redirect the mapping by swapping `a` for a symlink.
sys::Result<BackingFd> open_trusted_root(const std::string& path, const std::string& beneath);

// The handle of the object behind any fd of it, or an empty handle when the
// filesystem cannot make one (the caller then keeps an O_PATH fd instead).
FileHandle handle_of(int fd);

// An O_PATH fd of an object the worker just created and holds open.
sys::Result<BackingFd> path_fd_of(int proc_self_fd, int open_fd);

// How an inode reopens the object behind `open_fd` later: its handle, or on
// a filesystem without handles an O_PATH fd kept in `*pinned`. 0 or errno.
int reopen_key_of(int proc_self_fd, int open_fd, FileHandle* handle, SharedFd* pinned);

}  // namespace gw::fs
