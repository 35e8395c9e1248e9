#include "gateway/keys/key_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "fs/sys.hpp"
#include "fs/unique_fd.hpp"
#include "gateway/keys/key_store.hpp"
#include "mapping/names.hpp"

namespace gw::gateway {
namespace {

// A file changed in place twice within one tick of the filesystem's clock
// keeps its size, mtime and ctime; its identity is trusted only once its
// ctime is older than this (git's "racily clean" rule), so such a file is
// simply read again at every scan until then.
constexpr std::int64_t kRacyNs = 2'000'000'000;

std::int64_t ns(const struct timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

FileIdentity identity_of(const struct stat& st) {
  FileIdentity id;
  id.present = true;
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  id.size = st.st_size;
  id.mtime_ns = ns(st.st_mtim);
  id.ctime_ns = ns(st.st_ctim);
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  id.trusted = ns(now) - id.ctime_ns > kRacyNs && ns(now) - id.mtime_ns > kRacyNs;
  return id;
}

// An entry that exists but cannot be looked at: read again every time (the
// read logs why it serves none).
FileIdentity unknown() {
  FileIdentity id;
  id.present = true;
  return id;
}

// The names in an open folder that can be users' (temporaries such as
// ".<user>.new" and the kubelet's "..data" cannot).
std::vector<std::string> user_names_in(int dir) {
  std::vector<std::string> names;
  const int copy = ::fcntl(dir, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return names;
  DIR* d = ::fdopendir(copy);
  if (!d) {
    ::close(copy);
    return names;
  }
  while (const struct dirent* e = ::readdir(d))
    if (mapping::is_user_name(e->d_name)) names.emplace_back(e->d_name);
  ::closedir(d);
  return names;
}

using Seen = std::unordered_map<std::string, FileIdentity>;

// A folder that is missing holds no keys; one that cannot be opened serves
// none either (fail closed), and says so once per scan.
fs::UniqueFd open_key_folder(const std::string& path, int flags) {
  fs::UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags));
  if (!dir.valid() && errno != ENOENT)
    spdlog::error("authorized keys: cannot open {}: {}; serving none from it", path, std::strerror(errno));
  return dir;
}

// <state_dir>/authorized_keys: our own folder; entries are never followed
// (the store reads them with O_NOFOLLOW).
Seen stored_files(const std::string& state_dir) {
  Seen seen;
  const fs::UniqueFd dir = open_key_folder(state_dir + "/authorized_keys", O_NOFOLLOW);
  if (!dir.valid()) return seen;
  for (std::string& name : user_names_in(dir.get())) {
    struct stat st {};
    const bool ok = fs::sys::fstatat_nofollow(dir.get(), name.c_str(), &st) == 0;
    seen.emplace(std::move(name), ok ? identity_of(st) : unknown());
  }
  return seen;
}

// --authorized-keys-dir: the kubelet's `<user> -> ..data/<user>` links are
// followed, beneath the folder only (as load_provided_keys reads them), so a
// ..data swap shows as a new file.
Seen provided_files(const std::string& dir_path) {
  Seen seen;
  if (dir_path.empty()) return seen;
  const fs::UniqueFd dir = open_key_folder(dir_path, 0);
  if (!dir.valid()) return seen;
  constexpr unsigned long long kBeneath = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  for (std::string& name : user_names_in(dir.get())) {
    auto file = fs::sys::openat2(dir.get(), name.c_str(), O_PATH | O_CLOEXEC, kBeneath);
    struct stat st {};
    const bool ok = file.ok() && fs::sys::fstat(file.value.get(), &st) == 0;
    seen.emplace(std::move(name), ok ? identity_of(st) : unknown());
  }
  return seen;
}

const FileIdentity kAbsent{};

const FileIdentity& find(const Seen& seen, const std::string& name) {
  const auto it = seen.find(name);
  return it == seen.end() ? kAbsent : it->second;
}

}  // namespace

bool FileIdentity::same_as(const FileIdentity& o) const {
  if (!present && !o.present) return true;
  return present == o.present && trusted && o.trusted && dev == o.dev && ino == o.ino && size == o.size &&
         mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
}

AuthorizedKeysCache::AuthorizedKeysCache(std::string state_dir, std::string provided_dir)
    : state_dir_(std::move(state_dir)), provided_dir_(std::move(provided_dir)) {}

std::vector<std::string> AuthorizedKeysCache::scan() {
  const Seen stored = stored_files(state_dir_);
  const Seen provided = provided_files(provided_dir_);
  std::vector<std::string> changed;
  // Identities are taken before the files are read: a file replaced in
  // between is newer than its identity says, and is read again next time.
  const auto visit = [&](const std::string& name) {
    const FileIdentity& s = find(stored, name);
    const FileIdentity& p = find(provided, name);
    auto [it, fresh] = entries_.try_emplace(name);
    Entry& e = it->second;
    if (!fresh && e.stored.same_as(s) && e.provided.same_as(p)) return;
    e.stored = s;
    e.provided = p;
    std::string text = render_authorized_keys(state_dir_, provided_dir_, name);
    if (fresh || text != e.text) changed.push_back(name);
    e.text = std::move(text);
  };
  for (const auto& [name, id] : stored) visit(name);
  for (const auto& [name, id] : provided)
    if (!stored.contains(name)) visit(name);
  // A user whose files are gone has no keys.
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (stored.contains(it->first) || provided.contains(it->first)) {
      ++it;
      continue;
    }
    if (!it->second.text.empty()) changed.push_back(it->first);
    it = entries_.erase(it);
  }
  unserved_.insert(changed.begin(), changed.end());
  return changed;
}

const std::string& AuthorizedKeysCache::text(const std::string& user) const {
  static const std::string none;
  const auto it = entries_.find(user);
  return it == entries_.end() ? none : it->second.text;
}

}  // namespace gw::gateway
