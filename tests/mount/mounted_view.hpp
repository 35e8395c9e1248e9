// The fixture of the mount tier: one real gateway serving one FUSE view over
// fresh temp folders, plus a native folder per user to compare against.
//
//   <tmp>/data/<user>        homes (the gateway creates them)
//   <tmp>/volumes/<volume>   volume folders (add_volume)
//   <tmp>/native/<name>      native folders owned by a user (native_dir)
//   /run/gw-mount/<tmp>/mnt  the mountpoint, where sshd would accept the view
//                            (every folder above it root's, 0755; /tmp is 1777)
#pragma once

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "mount/as_user.hpp"
#include "mount/files.hpp"
#include "mount/gateway_process.hpp"

namespace gw::mount_test {

struct TestUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  Who who() const { return Who{uid, gid}; }
  std::string spec() const { return name + ":" + std::to_string(uid) + ":" + std::to_string(gid); }
};

// Users that exist nowhere but in the gateway's configuration, so no test
// result depends on the host's accounts.
inline const TestUser ann{"ann", 61000, 61000};
inline const TestUser bob{"bob", 61001, 61001};
// The owner of the volume folders (another container's user).
constexpr uid_t kVolumeOwner = 54321;

struct ViewSpec {
  std::vector<TestUser> users;
  std::vector<std::string> maps;         // --map items, e.g. "web:ann:web:ro"
  std::vector<std::string> extra{};      // more options, e.g. {"--cache-timeout", "0"}
  unsigned long fd_limit = 0;            // non-zero: the gateway's hard RLIMIT_NOFILE
  // Non-empty: written to <tmp>/gateway.conf and given as --config (for
  // 100,000 users: a --users argument that long exceeds MAX_ARG_STRLEN);
  // `users` is then left empty.
  std::string config_text{};
  double mount_timeout = 30;             // seconds start() waits for the mount
};

class MountedView {
 public:
  MountedView();
  // Stops a running gateway with SIGTERM and checks that it exited 0 and
  // left nothing mounted.
  ~MountedView();
  MountedView(const MountedView&) = delete;
  MountedView& operator=(const MountedView&) = delete;

  // Before start: a volume folder <tmp>/volumes/<name>, returns its path.
  std::string add_volume(const std::string& name, uid_t uid = kVolumeOwner, gid_t gid = kVolumeOwner,
                         mode_t mode = 0755);
  // A native folder owned by `user`, to run the same calls on.
  std::string native_dir(const std::string& name, const TestUser& user, mode_t mode = 0755);

  // Starts the gateway; REQUIREs that the view is mounted (see wait_mounted).
  void start(const ViewSpec& spec);
  // The command line start() uses (for lifecycle tests that run more).
  std::vector<std::string> args(const ViewSpec& spec) const;
  // Sends `sig`, waits, REQUIREs the exit code 0 and that nothing is mounted.
  void stop(int sig = SIGTERM);

  GatewayProcess& process() { return *process_; }
  const TempTree& tree() const { return tree_; }
  std::string mountpoint() const { return mount_tree_ / "mnt"; }
  std::string chroot_of(const TestUser& u) const { return mountpoint() + "/data/" + u.name + "-chroot"; }
  // The user's home seen through the view, and its backing folder.
  std::string home(const TestUser& u) const { return chroot_of(u) + "/" + u.name; }
  std::string backing_home(const TestUser& u) const { return tree_ / ("data/" + u.name); }
  std::string volume(const std::string& name) const { return tree_ / ("volumes/" + name); }
  std::string log_path() const { return tree_ / "gateway.log"; }
  std::string config_path() const { return tree_ / "gateway.conf"; }
  // The --state-dir of every gateway of this run (shared: see the .cpp).
  static std::string state_dir();

 private:
  TempTree tree_;
  TempTree mount_tree_{kMountBase};
  std::unique_ptr<GatewayProcess> process_;
};

// The setup most tests share: ann, one volume "web" owned by kVolumeOwner
// mapped at <home>/web (with `options`, e.g. ":ro"), and a native folder
// owned by ann.
struct Folders {
  std::string native;   // <tmp>/native/ann
  std::string view;     // <home>/web through the view
  std::string backing;  // <tmp>/volumes/web
};
Folders start_web(MountedView& v, const std::string& options = "", const std::vector<std::string>& extra = {});

// Compares the transcripts of the same script on a native folder and through
// the view, line by line.
void require_same(const std::vector<std::string>& native, const std::vector<std::string>& view);

}  // namespace gw::mount_test
