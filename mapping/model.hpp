// The configuration model: sftp users and the rules that map volumes into
// their chroot trees. Plain data; parsing and validation live beside it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "event_kinds.hpp"

namespace gw::mapping {

// A limit on a folder's contents: everything below the folder, whoever
// wrote it, since that is what fills the disk.
struct Limit {
  std::optional<std::uint64_t> bytes;  // quota=SIZE: st_size summed, a hard-linked file once
  std::optional<std::uint64_t> files;  // files=N: files, folders and symlinks
  bool any() const { return bytes.has_value() || files.has_value(); }
  bool operator==(const Limit&) const = default;
};

// An sftp account: `name:uid[:gid][:opt...]` (gid defaults to uid, as the
// classic setup did). Options limit the user's home: `quota=SIZE` (bytes,
// with a K, M, G or T suffix, 1024-based) and `files=N`; each one the user
// leaves out comes from --home-quota / --home-files (mapping::Defaults).
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
// on by default), `quota=SIZE` and `files=N` (a limit on the mapped folder:
// one folder has one limit, so every rule naming the folder with a limit
// gives the same one), `umask=OCTAL` (the permission bits new files and
// folders of this mapping never get; by default --umask), `events=KINDS`
// (the kinds of event the mapping reports, names joined by '+', or `none`;
// by default --event-kinds).
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
  std::optional<EventKinds> events{};
  bool operator==(const Rule&) const = default;
};

// Where one item of configuration came from, e.g. "SFTP_VOLUMES item 2" or
// "gateway.conf line 7". Carried along so every error can name its source.
struct Item {
  std::string text;
  std::string source;
  int line = 0;  // the config file's line it is on; 0 for the command line and the environment
};

struct Model {
  std::vector<User> users;
  std::vector<Rule> rules;
  bool operator==(const Model&) const = default;
};

}  // namespace gw::mapping
