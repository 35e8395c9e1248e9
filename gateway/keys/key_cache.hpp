// The authorized keys the view serves, kept between reloads: a reload lists
// the two key folders (one getdents each), stats each file present, and
// re-reads and re-validates only the files whose identity changed. Users
// without a file cost nothing, so a reload of 100,000 users with no keys
// reads nothing at all.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace gw::gateway {

// What a file was when it was read. Equal identities mean the same content,
// unless the file was changed in place within the timestamps' granularity:
// an identity whose ctime is that recent is never trusted (see key_cache.cpp).
struct FileIdentity {
  bool present = false;
  bool trusted = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  bool same_as(const FileIdentity& o) const;
};

class AuthorizedKeysCache {
 public:
  // Keys of <state_dir>/authorized_keys/<user>, then of <provided_dir>/<user>
  // (--authorized-keys-dir; empty: none), as render_authorized_keys gives them.
  AuthorizedKeysCache(std::string state_dir, std::string provided_dir);

  // Looks at both folders now; returns the names whose text may have changed
  // since the last scan (a file appeared, went, or is not the one read).
  std::vector<std::string> scan();

  // The user's keys as of the last scan, one line per key ("" for none).
  const std::string& text(const std::string& user) const;

  // The names scans found changed since the view last took every user's
  // keys (served()): a refused reload scans too, and what it found must
  // still reach the view with the next reload that is accepted.
  const std::unordered_set<std::string>& unserved() const { return unserved_; }
  void served() { unserved_.clear(); }

 private:
  struct Entry {
    FileIdentity stored, provided;
    std::string text;
  };
  std::string state_dir_, provided_dir_;
  std::unordered_map<std::string, Entry> entries_;  // only users with a file in either folder
  std::unordered_set<std::string> unserved_;
};

}  // namespace gw::gateway
