#include "gateway/check/preflight.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "fs/layout.hpp"
#include "gateway/sshd/chroot_parents.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/keys/host_keys.hpp"
#include "gateway/serve/served_tree.hpp"
#include "mapping/parse.hpp"

namespace gw::gateway {
namespace {

void append(mapping::Problems& to, mapping::Problems more) {
  to.insert(to.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

// The home as serve's worker treats it (fs/layout.cpp), in its words, so
// that serve says the same whoever judges (the worker does, once host keys
// exist): a name in the data folder that is not a folder is refused, a
// missing home is made later, an existing one is opened and judged like
// any mapped folder.
void home_problems(const mapping::UserPlan& user, int data_dir, mapping::Problems& out) {
  struct stat st {};
  const int found =
      ::fstatat(data_dir, user.user.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  if (found == ENOENT) return;
  if (found != 0) {
    const bool not_folder = found == ELOOP || found == ENOTDIR;
    out.push_back({"user " + user.user.name, "",
                   "home " + user.home_backing + ": " +
                       (not_folder ? "not a folder (a symlink or a file has its name)" : std::strerror(found))});
    return;
  }
  const fs::MappedFolder home = fs::open_mapped_folder(user.home_backing, "", mapping::Owner{user.user.uid, user.user.gid},
                                                       mapping::Access::read_write);
  if (!home.fd) out.push_back({user.user.name + ":~", "", home.problem});
}

mapping::Problems folder_problems(const mapping::Plan& plan, const mapping::Paths& paths) {
  mapping::Problems out;
  if (plan.users.empty()) return out;
  // serve opens the folder of the homes once, without following a symlink
  // (fs/layout.cpp): a symlinked or missing data dir is refused there.
  const int fd = ::open(paths.data_dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  const int err = errno;
  const fs::UniqueFd data_dir(fd);
  if (fd < 0) {
    out.push_back({"user " + plan.users.front().user.name, "",
                   "cannot open the data folder " + paths.data_dir + ": " + std::strerror(err)});
    return out;
  }
  for (const mapping::UserPlan& user : plan.users) {
    home_problems(user, data_dir.get(), out);
    for (const mapping::MountPlan& m : user.mounts) {
      const fs::MappedFolder folder = fs::open_mapped_folder(m.backing, m.subdir, m.owner, m.access);
      if (!folder.fd) out.push_back({user.user.name + ":" + m.name, "", folder.problem});
    }
  }
  return out;
}

// The worker replaces --metrics-file every few seconds (rename in its
// folder): the folder must be there. The file itself may not exist yet.
mapping::Problems metrics_file_problems(const Settings& settings) {
  if (settings.metrics_file.empty()) return {};
  const std::string folder = std::filesystem::path(settings.metrics_file).parent_path();
  struct stat st {};
  const int err = ::stat(folder.c_str(), &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  if (err == 0) return {};
  return {{"metrics-file", "", "cannot write " + settings.metrics_file + " in " + folder + ": " + std::strerror(err)}};
}

// The folders given instead of the state's host keys and besides its
// authorized keys: read, never written, so they must be there at the start.
mapping::Problems key_folder_problems(const Settings& settings) {
  mapping::Problems out;
  if (!settings.host_keys_dir.empty()) {
    try {
      load_host_keys(settings.host_keys_dir);
    } catch (const ExitError& e) {
      out.push_back({"host-keys-dir", "", e.what()});
    }
  }
  if (!settings.authorized_keys_dir.empty()) {
    struct stat st {};
    const std::string& dir = settings.authorized_keys_dir;
    const int err = ::stat(dir.c_str(), &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (err != 0) out.push_back({"authorized-keys-dir", "", "cannot read " + dir + ": " + std::strerror(err)});
  }
  return out;
}

}  // namespace

Preflight preflight(const Settings& settings, Judge judge) {
  Preflight p;
  // Only a judgement of the folders needs the rules planned; otherwise the
  // worker plans them (and parses them again), and this process keeps none.
  const mapping::Parsed parsed =
      mapping::parse(settings.input, judge == Judge::all ? mapping::Keep::model : mapping::Keep::users);
  p.problems = parsed.problems;
  try {
    const SshdFacts sshd = sshd_facts(settings);
    p.openssh = sshd.openssh;
    if (parsed.ok()) append(p.problems, privsep_problems(parsed.model.users, sshd.privsep_uid));
  } catch (const UsageError& e) {
    p.problems.push_back({"", "", e.what()});
  }
  append(p.problems, chroot_parent_problems(settings));
  append(p.problems, metrics_file_problems(settings));
  append(p.problems, key_folder_problems(settings));
  if (!p.ok()) {
    p.exit_code = exit_code::usage;
    return p;
  }
  if (judge == Judge::configuration_only) return p;
  p.plan = mapping::make_plan(parsed.model, settings.paths, settings.defaults);
  p.problems = folder_problems(p.plan, settings.paths);
  p.exit_code = p.ok() ? exit_code::ok : exit_code::backing_unusable;
  return p;
}

}  // namespace gw::gateway
