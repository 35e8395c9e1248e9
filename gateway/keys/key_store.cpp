#include "gateway/keys/key_store.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "fs/sys.hpp"
#include "fs/unique_fd.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/atomic_file.hpp"
#include "mapping/names.hpp"
#include "mapping/problem.hpp"

namespace gw::gateway {
namespace {

// A cap on what a reload reads: about 2,000 RSA-4096 keys.
constexpr std::size_t kMaxFileBytes = 1024 * 1024;
constexpr mode_t kFolderMode = 0700;  // private state, like the host keys' folder
constexpr mode_t kFileMode = 0644;    // served as 0644 too; the folder keeps others out

std::string folder_of(const std::string& state_dir) { return state_dir + "/authorized_keys"; }

[[noreturn]] void io_failure(const std::string& what, int err) {
  throw ExitError(exit_code::failure, what + ": " + std::strerror(err));
}

// The folder's path comes from trusted configuration (--state-dir); from
// here on every access is one name relative to this fd. O_NOFOLLOW: a
// symlink in place of the folder is refused, not followed.
fs::UniqueFd open_folder(const std::string& path) {
  return fs::UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

// The folder for a change: created if missing, refused unless it is ours
// (whoever owns it could swap the files under us), made 0700, and locked.
fs::UniqueFd open_folder_for_change(const std::string& state_dir) {
  const std::string path = folder_of(state_dir);
  std::error_code ec;
  const bool fresh_state = !std::filesystem::exists(state_dir, ec);
  std::filesystem::create_directories(path, ec);
  if (ec) io_failure("cannot create " + path, ec.value());
  if (fresh_state && ::chmod(state_dir.c_str(), kFolderMode) != 0) io_failure("cannot protect " + state_dir, errno);
  fs::UniqueFd dir = open_folder(path);
  if (!dir.valid()) io_failure("cannot open " + path, errno);
  struct stat st {};
  if (::fstat(dir.get(), &st) != 0) io_failure("cannot stat " + path, errno);
  if (st.st_uid != ::geteuid()) {
    throw ExitError(exit_code::failure, path + " belongs to uid " + std::to_string(st.st_uid) +
                                            ", not to the gateway's uid " + std::to_string(::geteuid()));
  }
  if ((st.st_mode & 07777) != kFolderMode && ::fchmod(dir.get(), kFolderMode) != 0)
    io_failure("cannot protect " + path, errno);
  while (::flock(dir.get(), LOCK_EX) != 0) {
    if (errno != EINTR) io_failure("cannot lock " + path, errno);
  }
  return dir;
}

// An opened key file's text, capped.
std::string read_opened(const fs::UniqueFd& fd, const std::string& label) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) io_failure("cannot stat " + label, errno);
  if (!S_ISREG(st.st_mode)) throw ExitError(exit_code::failure, label + " is not a regular file");
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_failure("cannot read " + label, errno);
    if (n == 0) return text;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxFileBytes) throw ExitError(exit_code::failure, label + " is larger than 1 MiB");
  }
}

// The file's text; "" when it does not exist.
std::string read_keys_file(int dir, const std::string& name, const std::string& label) {
  // O_NONBLOCK: a FIFO put in place of the file must not hang a reload.
  const fs::UniqueFd fd(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return {};
    io_failure("cannot open " + label, errno);
  }
  return read_opened(fd, label);
}

bool contains(const std::vector<AuthorizedKey>& keys, const AuthorizedKey& key) {
  return std::any_of(keys.begin(), keys.end(), [&](const AuthorizedKey& k) { return k.base64 == key.base64; });
}

// Stored lines are checked again on every read: the file may have been
// edited by hand, and only what passes today's rules reaches sshd.
std::vector<AuthorizedKey> stored_keys(std::string_view text, const std::string& label) {
  std::vector<AuthorizedKey> keys;
  const std::vector<KeyLine> lines = check_key_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].kind == KeyLine::Kind::refused)
      spdlog::warn("{} line {}: {}; skipped", mapping::printable(label), i + 1, lines[i].reason);
    else if (lines[i].kind == KeyLine::Kind::key && !contains(keys, lines[i].key))
      keys.push_back(lines[i].key);
  }
  return keys;
}

std::string render(const std::vector<AuthorizedKey>& keys) {
  std::string text;
  for (const AuthorizedKey& key : keys) text += key.line() + "\n";
  return text;
}

// A read-modify-write in progress: the locked folder and what it held. The
// gateway may reload at any moment, so a change is written whole with
// replace_file_at; the lock makes this run the file's one writer, and the
// temporary's leading dot keeps it from ever being a user's name.
struct Change {
  fs::UniqueFd dir;
  std::string label;
  bool file_empty = true;
  std::vector<AuthorizedKey> keys;
};

Change begin_change(const std::string& state_dir, const std::string& user) {
  Change change;
  change.dir = open_folder_for_change(state_dir);
  change.label = folder_of(state_dir) + "/" + user;
  const std::string text = read_keys_file(change.dir.get(), user, change.label);
  change.file_empty = text.empty();
  change.keys = stored_keys(text, change.label);
  return change;
}

void require_configured(const std::string& user, const std::vector<mapping::User>& users) {
  std::vector<std::string> names;
  for (const mapping::User& u : users) {
    if (u.name == user) return;
    names.push_back(u.name);
  }
  const std::string shown = "unknown user '" + mapping::printable(user) + "'";
  if (names.empty()) throw UsageError(shown + ": no users are configured (--users, SFTP_USERS or --config)");
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
  const std::optional<std::string> near = mapping::closest(user, names);
  throw UsageError(shown + " (" + (near ? "did you mean '" + *near + "'? " : "") + "configured: " + list + ")");
}

}  // namespace

KeyStore::KeyStore(std::string state_dir, std::string user, const std::vector<mapping::User>& users)
    : state_dir_(std::move(state_dir)), user_(std::move(user)) {
  require_configured(user_, users);
  // Configured names are valid account names already; this keeps the file
  // name a single component even if a caller passed unvalidated users.
  if (!mapping::is_user_name(user_)) throw UsageError("'" + mapping::printable(user_) + "' is not a user name");
}

std::vector<AuthorizedKey> KeyStore::list() const {
  const std::string path = folder_of(state_dir_);
  const fs::UniqueFd dir = open_folder(path);
  if (!dir.valid()) {
    if (errno == ENOENT) return {};
    io_failure("cannot open " + path, errno);
  }
  const std::string label = path + "/" + user_;
  return stored_keys(read_keys_file(dir.get(), user_, label), label);
}

std::vector<AddedKey> KeyStore::add(const std::vector<AuthorizedKey>& keys) {
  Change change = begin_change(state_dir_, user_);
  const std::size_t before = change.keys.size();
  std::vector<AddedKey> added;
  for (const AuthorizedKey& key : keys) {
    const bool present = contains(change.keys, key);
    if (!present) change.keys.push_back(key);
    added.push_back({key, present});
  }
  if (change.keys.size() != before) replace_file_at(change.dir.get(), user_, render(change.keys), kFileMode, change.label);
  spdlog::debug("keys: {} of {} key(s) added for {}", change.keys.size() - before, keys.size(), user_);
  return added;
}

AuthorizedKey KeyStore::remove(std::string_view fingerprint) {
  if (!fingerprint.starts_with("SHA256:")) {
    throw UsageError("'" + mapping::printable(fingerprint) +
                     "' is not a SHA256 fingerprint (give it as `gateway keys list` prints it: SHA256:...)");
  }
  Change change = begin_change(state_dir_, user_);
  const auto found = std::find_if(change.keys.begin(), change.keys.end(),
                                  [&](const AuthorizedKey& k) { return k.fingerprint == fingerprint; });
  if (found == change.keys.end()) {
    std::string list;
    for (const AuthorizedKey& k : change.keys) list += (list.empty() ? "" : ", ") + k.fingerprint;
    throw UsageError("user " + user_ + " has no key " + mapping::printable(fingerprint) +
                     (list.empty() ? " (it has no keys)" : " (its keys: " + list + ")"));
  }
  const AuthorizedKey removed = *found;
  change.keys.erase(found);
  replace_file_at(change.dir.get(), user_, render(change.keys), kFileMode, change.label);
  spdlog::debug("keys: removed {} from {}", removed.fingerprint, user_);
  return removed;
}

std::size_t KeyStore::clear() {
  Change change = begin_change(state_dir_, user_);
  // Also rewrites a file holding only invalid lines, so it is really empty.
  if (!change.file_empty) replace_file_at(change.dir.get(), user_, "", kFileMode, change.label);
  spdlog::debug("keys: cleared {} key(s) of {}", change.keys.size(), user_);
  return change.keys.size();
}

std::vector<AuthorizedKey> load_authorized_keys(const std::string& state_dir, const std::string& user) {
  const std::string path = folder_of(state_dir);
  const std::string label = path + "/" + user;
  try {
    if (!mapping::is_user_name(user)) throw ExitError(exit_code::failure, "not a user name");
    const fs::UniqueFd dir = open_folder(path);
    if (!dir.valid()) {
      if (errno == ENOENT) return {};
      io_failure("cannot open " + path, errno);
    }
    return stored_keys(read_keys_file(dir.get(), user, label), label);
  } catch (const std::exception& e) {
    // Serving goes on for everyone else; this user just cannot log in.
    spdlog::error("authorized keys of {}: {}; serving none", mapping::printable(user), e.what());
    return {};
  }
}

std::vector<AuthorizedKey> load_provided_keys(const std::string& dir, const std::string& user) {
  const std::string label = dir + "/" + user;
  try {
    if (!mapping::is_user_name(user)) throw ExitError(exit_code::failure, "not a user name");
    // The folder itself is trusted configuration; its entries are not
    // followed out of it.
    const fs::UniqueFd folder(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!folder.valid()) io_failure("cannot open " + dir, errno);
    constexpr unsigned long long kBeneath = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    auto file = fs::sys::openat2(folder.get(), user.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC, kBeneath);
    if (!file.ok()) {
      if (file.err == ENOENT) return {};
      io_failure("cannot open " + label, file.err);
    }
    return stored_keys(read_opened(file.value, label), label);
  } catch (const std::exception& e) {
    spdlog::error("authorized keys of {}: {}; serving none from {}", mapping::printable(user), e.what(), dir);
    return {};
  }
}

std::string render_authorized_keys(const std::string& state_dir, const std::string& provided_dir,
                                   const std::string& user) {
  std::vector<AuthorizedKey> keys = load_authorized_keys(state_dir, user);
  if (!provided_dir.empty())
    for (AuthorizedKey& key : load_provided_keys(provided_dir, user))
      if (!contains(keys, key)) keys.push_back(std::move(key));
  return render(keys);
}

}  // namespace gw::gateway
