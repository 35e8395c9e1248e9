#include "gateway/sshd/chroot_parents.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace gw::gateway {
namespace {

std::string sshd_path(const Settings& s) { return s.sshd_view.empty() ? s.mountpoint : s.sshd_view; }

// The option that named the path, for the problem's source.
std::string option_of(const Settings& s) { return s.sshd_view.empty() ? "mountpoint" : "sshd-view"; }

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Why sshd refuses this component, or "" when it accepts it. The same test
// as safely_chroot: stat (symlinks followed), uid 0, no 022 bits, a folder.
std::string refusal(const struct stat& st) {
  if (!S_ISDIR(st.st_mode)) return "it is not a directory";
  if (st.st_uid != 0) return "it is owned by uid " + std::to_string(st.st_uid) + ", not root";
  if ((st.st_mode & 022) != 0) return "its mode " + octal(st.st_mode) + " lets group or others write";
  return {};
}

}  // namespace

bool sshd_view_is_local(const Settings& s) {
  // "/srv/view/" and "/srv/./view" name /srv/view too.
  const auto normal = [](const std::string& p) {
    std::filesystem::path n = std::filesystem::path(p).lexically_normal();
    return n.has_filename() ? n : n.parent_path();
  };
  return s.run_sshd || normal(sshd_path(s)) == normal(s.mountpoint);
}

mapping::Problems chroot_parent_problems(const Settings& s) {
  const std::string path = sshd_path(s);
  const auto problem = [&](std::string message) {
    return mapping::Problems{mapping::Problem{option_of(s), path, std::move(message)}};
  };
  if (path.empty() || path.front() != '/')
    return problem("not an absolute path; sshd's ChrootDirectory must be one");
  if (!sshd_view_is_local(s)) return {};
  // Every prefix ending before a '/' ("/", "/run", "/run/gw"), the view's
  // own path excluded: once mounted it is the view's root.
  std::string view = path;
  while (view.size() > 1 && view.back() == '/') view.pop_back();
  for (std::size_t slash = 0; slash != std::string::npos && slash < view.size(); slash = view.find('/', slash + 1)) {
    const std::string parent = slash == 0 ? "/" : view.substr(0, slash);
    struct stat st {};
    if (::stat(parent.c_str(), &st) != 0) {
      if (errno == ENOENT) return {};  // serve creates it and what is below, as root
      return problem("cannot check " + parent + " as sshd will: " + std::strerror(errno));
    }
    if (const std::string why = refusal(st); !why.empty()) {
      return problem("sshd refuses to chroot below " + parent + ": " + why +
                     "; every folder above the view must be owned by root and writable by root only "
                     "(mount the view elsewhere, e.g. under /run)");
    }
  }
  return {};
}

}  // namespace gw::gateway
