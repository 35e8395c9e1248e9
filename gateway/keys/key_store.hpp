// The users' authorized keys: <state-dir>/authorized_keys/<user>, one
// validated key per line, in the gateway's private state folder (0700).
// `gateway serve` watches that folder and serves each file, re-validated,
// as the view's etc/ssh/authorized_keys/<user>, so every write here is a
// whole new file renamed into place: a reload never reads half a file.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/keys/authorized_key.hpp"
#include "mapping/model.hpp"

namespace gw::gateway {

struct AddedKey {
  AuthorizedKey key;
  bool already_present = false;  // the same key blob is stored already (the comment may differ)
};

// One configured user's keys. Changes hold an exclusive lock on the folder
// for their read-modify-write, so two `gateway keys` runs never lose one
// another's change. Errors: UsageError for bad requests (exit code 2),
// ExitError(failure) for I/O.
class KeyStore {
 public:
  // Throws UsageError when user is not one of users, naming the configured ones.
  KeyStore(std::string state_dir, std::string user, const std::vector<mapping::User>& users);

  const std::string& user() const { return user_; }

  // The stored keys; lines that no longer validate are skipped with a warning.
  std::vector<AuthorizedKey> list() const;

  // Adds keys (already validated, see parse_keys) in one write, skipping any
  // whose blob is stored already or earlier in keys. One entry per key given.
  std::vector<AddedKey> add(const std::vector<AuthorizedKey>& keys);

  // Removes the key with this fingerprint ("SHA256:..."); returns it.
  // Throws UsageError when the user has no such key.
  AuthorizedKey remove(std::string_view fingerprint);

  // Removes every key; returns how many there were.
  std::size_t clear();

 private:
  std::string state_dir_;
  std::string user_;
};

// For the etc tree: the validated keys of one user, read-only (nothing is
// created). Each stored line is checked again; a bad one is skipped and
// logged. A missing file means no keys; an unreadable one is logged and
// means no keys too (fail closed).
std::vector<AuthorizedKey> load_authorized_keys(const std::string& state_dir, const std::string& user);

// The validated keys of <dir>/<user> in --authorized-keys-dir, a folder the
// gateway only reads (a Kubernetes ConfigMap or Secret volume). The kubelet
// projects `<user> -> ..data/<user>` and swaps `..data` on a change, so
// symlinks are followed, but only beneath the folder (openat2
// RESOLVE_BENEATH): nothing in it leads outside. Missing or failing: none,
// as load_authorized_keys.
std::vector<AuthorizedKey> load_provided_keys(const std::string& dir, const std::string& user);

// What the view serves as etc/ssh/authorized_keys/<user>: the stored keys
// (`gateway keys`), then those of `provided_dir` (empty: none), each key
// once, one line per key.
std::string render_authorized_keys(const std::string& state_dir, const std::string& provided_dir,
                                   const std::string& user);

}  // namespace gw::gateway
