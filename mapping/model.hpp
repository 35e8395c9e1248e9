// The configuration model: sftp users and the rules that map volumes into
// their chroot trees. Plain data; parsing and validation live beside it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gw::mapping {

// A limit on a folder's contents.
struct Limit {
  std::optional<std::uint64_t> bytes;  // quota=SIZE
  std::optional<std::uint64_t> files;  // files=N
  bool any() const { return bytes.has_value() || files.has_value(); }
  bool operator==(const Limit&) const = default;
};

// An sftp account: `name:uid[:gid]` (gid defaults to uid, as the classic setup did).
struct User {
  std::string name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  Limit limit{};
  bool operator==(const User&) const = default;
};

// A uid:gid pair as stored on disk.
struct Owner {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  bool operator==(const Owner&) const = default;
};

enum class Access { read_write, read_only };

// One mapping rule: `volume[/subdir]:user:mount[:opt[:opt...]]`.
// Options: `rw` (default), `ro`, `owner=UID:GID` (the stored owner; by default
// the owner of the mapped directory), `symlinks` (allow creating symlinks),
// `atomic` / `noatomic` (uploads land under their final name only when closed;
// on by default).
struct Rule {
  std::string volume;
  std::string subdir{};  // relative, "" for the volume's root; never contains ".."
  std::string user;
  std::string mount;
  Access access = Access::read_write;
  std::optional<Owner> owner{};
  bool symlinks = false;
  bool atomic = true;
  Limit limit{};
  std::optional<std::uint32_t> umask{};
  bool operator==(const Rule&) const = default;
};

// Where one item of configuration came from, e.g. "SFTP_VOLUMES item 2" or
// "gateway.conf line 7". Carried along so every error can name its source.
struct Item {
  std::string text;
  std::string source;
};

struct Model {
  std::vector<User> users;
  std::vector<Rule> rules;
  bool operator==(const Model&) const = default;
};

}  // namespace gw::mapping
