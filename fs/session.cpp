#include "fs/session.hpp"

#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include "fs/kernel_paths.hpp"
#include "fs/op_table.hpp"

namespace gw::fs {
namespace {

constexpr long kFuseMagic = 0x65735546;

void prepare_mountpoint(const std::string& path) {
  if (is_dead_mount(path)) {
    spdlog::warn("{}: replacing the dead mount of a previous gateway", path);
    if (::umount2(path.c_str(), MNT_DETACH) != 0)
      throw MountError(path + ": cannot detach dead mount: " + std::strerror(errno));
  }
  struct statfs sfs {};
  if (::statfs(path.c_str(), &sfs) != 0) throw MountError(path + ": " + std::strerror(errno));
  if (sfs.f_type == kFuseMagic)
    throw MountError(path + ": a FUSE filesystem is already mounted here (is another gateway running?)");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw MountError(path + ": not a directory");
}

}  // namespace

bool is_dead_mount(const std::string& path) {
  // statfs always reaches the (dead) connection; stat of the mount's root
  // is answered from the kernel's attribute cache for up to the cache
  // timeout after the daemon died, which made a quick restart fail.
  struct statfs sfs {};
  return ::statfs(path.c_str(), &sfs) != 0 && errno == ENOTCONN;
}

Session::Session(View& view, const std::string& mountpoint) : view_(view) {
  prepare_mountpoint(mountpoint);
  std::string options = "allow_other,default_permissions,nosuid,nodev,fsname=sftp-gateway,subtype=sftp-gateway";
  // libfuse 3.18 starts its rings only when told (and falls back to
  // /dev/fuse without a word: View::note_transport says which it got).
  if (kBuiltWithIoUring && view.kernel_paths().io_uring) options += ",io_uring";
  std::vector<std::string> argv_text = {"gateway", "-o", options};
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  struct fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  se_ = fuse_session_new(&args, &operations(), sizeof(struct fuse_lowlevel_ops), &view_);
  fuse_opt_free_args(&args);  // libfuse may have copied them while parsing
  if (!se_) throw MountError("cannot create the FUSE session");
  if (fuse_session_mount(se_, mountpoint.c_str()) != 0) {
    fuse_session_destroy(se_);
    se_ = nullptr;
    throw MountError(mountpoint + ": mount failed (is /dev/fuse available and fuse3 installed?)");
  }
  view_.set_session(se_);
}

Session::~Session() {
  if (!se_) return;
  view_.set_session(nullptr);
  if (signals_) fuse_remove_signal_handlers(se_);
  fuse_session_unmount(se_);
  fuse_session_destroy(se_);
}

int Session::run(unsigned max_threads, const std::function<void()>& ready) {
  if (fuse_set_signal_handlers(se_) != 0) return 1;
  signals_ = true;
  ready();
  struct fuse_loop_config* cfg = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(cfg, max_threads);
  fuse_loop_cfg_set_clone_fd(cfg, 1);
  const int rc = fuse_session_loop_mt(se_, cfg);
  fuse_loop_cfg_destroy(cfg);
  // libfuse returns the number of the signal that ended the loop: a
  // requested stop is a clean exit, not a failure.
  if (rc == SIGTERM || rc == SIGINT) return 0;
  return rc;
}

void Session::exit() { fuse_session_exit(se_); }

}  // namespace gw::fs
