#include "gateway/sshd/private_etc.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "fs/sys.hpp"
#include "gateway/sshd/accounts.hpp"
#include "gateway/atomic_file.hpp"
#include "gateway/exit_codes.hpp"

namespace gw::gateway {
namespace {

constexpr const char* kHostEtc = "/etc/.gateway-host-etc";  // in sshd's namespace only
constexpr const char* kNscdDir = "/run/nscd";                // glibc's name service cache socket

bool is_gateway_name(std::string_view name) {
  return std::find(kGatewayEtcNames.begin(), kGatewayEtcNames.end(), name) != kGatewayEtcNames.end();
}

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

void write_sshd_etc(const std::string& dir, const std::string& passwd, const std::string& group) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw ExitError(exit_code::failure, "cannot create " + dir + ": " + ec.message());
  auto folder = fs::sys::openat(AT_FDCWD, dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!folder.ok()) throw ExitError(exit_code::failure, "cannot open " + dir + ": " + errno_text(folder.err));
  // An account's passwd entry comes last, so sshd never finds a user whose
  // shadow, group or lookup rules are not written yet.
  // passwd and group are written from the caller's texts, never copied:
  // at 100,000 users they are about 6 MB each.
  const std::string nsswitch = render_nsswitch(), shadow = render_shadow(passwd), gshadow = render_gshadow(group);
  const struct {
    const char* name;
    std::string_view text;
    mode_t mode;
  } files[] = {{"nsswitch.conf", nsswitch, 0644},
               {"shadow", shadow, 0600},
               {"gshadow", gshadow, 0600},
               {"group", group, 0644},
               {"passwd", passwd, 0644}};
  static_assert(std::size(files) == kGatewayEtcNames.size(), "every name sshd takes from the gateway is written");
  // Rewritten at every start: the rename keeps readers atomic, no fsync needed.
  for (const auto& f : files)
    replace_file_at(folder.value.get(), f.name, f.text, f.mode, dir + "/" + f.name, Sync::rename_only);
}

SshdEtcPlan plan_sshd_etc(const std::string& gateway_etc) {
  SshdEtcPlan plan;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/etc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename();
    if (is_gateway_name(name) || "/etc/" + name == kHostEtc) continue;
    std::string target = std::string(kHostEtc) + "/" + name;
    // A top-level link keeps its own text: /etc is at the same place in
    // sshd's namespace, so a relative one (os-release -> ../usr/lib/...)
    // still resolves as on the host, which it would not one level down.
    std::error_code link_ec;
    if (it->is_symlink(link_ec)) target = std::filesystem::read_symlink(it->path(), link_ec);
    if (link_ec) throw ExitError(exit_code::failure, "cannot read /etc/" + name + ": " + link_ec.message());
    plan.links.push_back({"/etc/" + name, target});
  }
  if (ec) throw ExitError(exit_code::failure, "cannot list /etc for sshd: " + ec.message());
  for (const auto name : kGatewayEtcNames)
    plan.links.push_back({"/etc/" + std::string(name), gateway_etc + "/" + std::string(name)});
  return plan;
}

const char* mount_sshd_etc(const SshdEtcPlan& plan) {
  // The host's /etc (with whatever is mounted inside it), as a detached
  // clone: the tmpfs below covers the path, not this copy of the mount.
  const int host = ::open_tree(AT_FDCWD, "/etc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (host < 0) return "gateway: sshd /etc: clone the host's /etc";
  if (::mount("tmpfs", "/etc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") != 0)
    return "gateway: sshd /etc: tmpfs on /etc";
  if (::mkdir(kHostEtc, 0755) != 0 || ::move_mount(host, "", AT_FDCWD, kHostEtc, MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return "gateway: sshd /etc: mount the host's /etc aside";
  ::close(host);
  for (const auto& link : plan.links)
    if (::symlink(link.target.c_str(), link.path.c_str()) != 0) return "gateway: sshd /etc: symlink";
  // glibc asks a running nscd before it reads nsswitch.conf: the host's
  // cache would answer with the host's accounts. An empty folder over its
  // socket's folder makes sshd's lookups fall through to the files above.
  struct stat st {};
  if (::stat(kNscdDir, &st) == 0 && S_ISDIR(st.st_mode) &&
      ::mount("tmpfs", kNscdDir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k") != 0)
    return "gateway: sshd /etc: hide the host's nscd";
  return nullptr;  // read-only with the rest of the tree (sshd/supervisor.cpp)
}

std::string sshd_etc_problem(pid_t pid, const std::string& gateway_etc) {
  const std::string root_path = "/proc/" + std::to_string(pid) + "/root";
  const auto root = fs::sys::openat(AT_FDCWD, root_path.c_str(), O_PATH | O_DIRECTORY);
  if (!root.ok()) return "cannot look into sshd's namespace (" + root_path + "): " + errno_text(root.err);
  // Each name must be the link to the gateway's file: a regular file there
  // is the host's database (the namespace's /etc was lost or never made).
  for (const auto name : kGatewayEtcNames) {
    const std::string entry = "etc/" + std::string(name);
    const std::string expected = gateway_etc + "/" + std::string(name);
    const auto fd = fs::sys::openat(root.value.get(), entry.c_str(), O_PATH | O_NOFOLLOW);
    if (!fd.ok()) return "sshd has no /" + entry + " (" + errno_text(fd.err) + "), expected a link to " + expected;
    struct stat st {};
    if (const int err = fs::sys::fstat(fd.value.get(), &st)) return "cannot stat sshd's /" + entry + ": " + errno_text(err);
    if (!S_ISLNK(st.st_mode)) return "sshd's /" + entry + " is the host's file, not a link to " + expected;
    const auto target = fs::sys::readlink_fd(fd.value.get());
    if (!target.ok()) return "cannot read sshd's /" + entry + ": " + errno_text(target.err);
    if (target.value != expected)
      return "sshd's /" + entry + " links to " + target.value + ", not to " + expected;
  }
  // And the folder those links name must be the gateway's in sshd's
  // namespace too (resolved as sshd would, its absolute links inside its root).
  const auto theirs = fs::sys::openat2(root.value.get(), gateway_etc.c_str(), O_PATH | O_DIRECTORY,
                                       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  const auto ours = fs::sys::openat(AT_FDCWD, gateway_etc.c_str(), O_PATH | O_DIRECTORY);
  struct stat a {}, b {};
  if (!theirs.ok() || !ours.ok() || fs::sys::fstat(theirs.value.get(), &a) != 0 ||
      fs::sys::fstat(ours.value.get(), &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
    return "sshd's " + gateway_etc + " is not the gateway's folder";
  return "";
}

}  // namespace gw::gateway
