#include "mount/mounted_view.hpp"

#include <exception>

#include "support/catch.hpp"

namespace gw::mount_test {

namespace {

// Host keys take a second or more to generate (RSA 3072); all gateways of a
// run share one state folder, so the keys are made once.
const std::string& shared_state_dir() {
  static const TempTree tree;
  return tree.path();
}

}  // namespace

std::string MountedView::state_dir() { return shared_state_dir(); }

MountedView::MountedView() {
  make_dir(tree_ / "data", 0, 0, 0755);
  make_dir(tree_ / "volumes", 0, 0, 0755);
  make_dir(tree_ / "native", 0, 0, 0755);
  make_dir(mount_tree_ / "mnt", 0, 0, 0755);
}

MountedView::~MountedView() {
  if (!process_ || process_->exited()) return;
  // During unwinding (a REQUIRE failed) only clean up: no more assertions.
  if (std::uncaught_exceptions() > 0) return;
  process_->signal(SIGTERM);
  const int code = process_->wait_exit(5);
  CHECK(code == 0);
  CHECK_FALSE(is_fuse(mountpoint()));
}

std::string MountedView::add_volume(const std::string& name, uid_t uid, gid_t gid, mode_t mode) {
  const std::string path = volume(name);
  make_dir(path, uid, gid, mode);
  return path;
}

std::string MountedView::native_dir(const std::string& name, const TestUser& user, mode_t mode) {
  const std::string path = tree_ / ("native/" + name);
  make_dir(path, user.uid, user.gid, mode);
  return path;
}

std::vector<std::string> MountedView::args(const ViewSpec& spec) const {
  std::string users;
  for (const auto& u : spec.users) users += (users.empty() ? "" : ",") + u.spec();
  std::string maps;
  for (const auto& m : spec.maps) maps += (maps.empty() ? "" : ",") + m;
  std::vector<std::string> a{"serve", "--data-dir", tree_ / "data", "--volumes-dir",
                             tree_ / "volumes", "--mountpoint", mountpoint(), "--state-dir", shared_state_dir(),
                             "--log-level", "debug"};
  if (!users.empty()) a.insert(a.end(), {"--users", users});
  if (!spec.config_text.empty()) a.insert(a.end(), {"--config", config_path()});
  if (!maps.empty()) a.insert(a.end(), {"--map", maps});
  a.insert(a.end(), spec.extra.begin(), spec.extra.end());
  return a;
}

void MountedView::start(const ViewSpec& spec) {
  if (!spec.config_text.empty()) write_file(config_path(), spec.config_text, 0, 0);
  process_ = std::make_unique<GatewayProcess>(args(spec), log_path(), spec.fd_limit);
  const std::string problem = process_->wait_mounted(mountpoint(), spec.mount_timeout);
  INFO(process_->log());
  REQUIRE(problem == "");
}

void MountedView::stop(int sig) {
  REQUIRE(process_);
  process_->signal(sig);
  const int code = process_->wait_exit(5);
  INFO(process_->log());
  REQUIRE(code == 0);
  REQUIRE_FALSE(is_fuse(mountpoint()));
  // Unmounted cleanly: the mountpoint is an ordinary (empty) folder again.
  REQUIRE(names_in(mountpoint()).empty());
}

Folders start_web(MountedView& v, const std::string& options, const std::vector<std::string>& extra) {
  Folders f{v.native_dir("ann", ann), v.home(ann) + "/web", v.add_volume("web")};
  v.start(ViewSpec{{ann}, {"web:ann:web" + options}, extra});
  return f;
}

void require_same(const std::vector<std::string>& native, const std::vector<std::string>& view) {
  for (std::size_t i = 0; i < std::max(native.size(), view.size()); ++i) {
    const std::string n = i < native.size() ? native[i] : "(missing)";
    const std::string v = i < view.size() ? view[i] : "(missing)";
    INFO("line " << i + 1 << "\n  native: " << n << "\n  view:   " << v);
    CHECK(n == v);
  }
  REQUIRE(native.size() == view.size());
}

}  // namespace gw::mount_test
