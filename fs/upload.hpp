// Atomic uploads, one owner for their whole life. In a mapping with the
// `atomic` option a file is written under a hidden temporary name in its
// folder and renamed to its real name when the client closes it: consumers
// of the volume never see a partial file under its final name, and a killed
// upload leaves none. An existing file opened with O_TRUNC is overwritten
// the same way (the temporary replaces it at close).
//
// This file owns, in memory (no syscalls, unit-tested):
//   - temporary naming: `.gw-upload-[<tag>-]<16 hex>` names are the
//     gateway's own, never shown and never made by a client; the tag names
//     the gateway instance that made it (fs/upload_sweep.hpp: why);
//   - the registry of uploads in progress, and resolve(): which backing
//     name a name in a folder means now (every handler asks it);
//   - each upload's state (fs/upload_state.hpp), changed only by apply();
//   - the redirect of the kernel's inode during and after an overwrite.
// fs/upload_steps.hpp starts and ends uploads (the syscalls), and
// fs/upload_sweep.hpp removes what a dead worker left behind.
//
// Locks, in this order: Upload::ending, Uploads::mu_, Inode::mu_; none is
// held across a syscall but `ending`, which one upload's end holds.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "fs/inode.hpp"
#include "fs/name.hpp"
#include "fs/upload_state.hpp"

namespace gw::fs {

// One upload, from the open that starts it to the release that ends it.
// Its facts are fixed when it starts; its state lives in Uploads.
class Upload {
 public:
  // An overwrite: what it replaces, and the inodes involved.
  struct Replacing {
    InodePtr node;                              // the kernel's inode of the file
    dev_t dev = 0;                              // the file its name held at the open
    ino_t ino = 0;
    std::shared_ptr<const Inode> replacement;   // the temporary's own inode (in no table)
  };

  // A new file `final_name` in `parent`, written as `temporary`.
  Upload(InodePtr parent, Name final_name, Name temporary);
  // An overwrite of the file `final_name` in `parent`.
  Upload(InodePtr parent, Name final_name, Name temporary, Replacing replacing);

  bool overwrite() const { return replacing_.has_value(); }
  const InodePtr& parent() const { return parent_; }
  const Name& final_name() const { return final_name_; }
  const Name& temporary() const { return temporary_; }
  const Replacing& replacing() const { return *replacing_; }  // overwrites only

  // Publish and discard, one at a time (a dup'd descriptor closes twice);
  // held across their syscalls.
  std::mutex ending;

 private:
  friend class Uploads;
  const InodePtr parent_;
  const Name final_name_;
  const Name temporary_;
  const std::optional<Replacing> replacing_;
  // Guarded by Uploads::mu_.
  UploadState state_ = UploadState::writing;
  int error_ = 0;                          // what the close reports
  // Overwrites: the redirect `add` replaced, and the overwrite of the same
  // file it belonged to if that was in progress then.
  std::shared_ptr<const Inode> previous_;
  std::shared_ptr<Upload> before_;
};

class Uploads {
 public:
  static constexpr std::string_view kPrefix = ".gw-upload-";
  static bool is_temporary(std::string_view name) { return name.substr(0, kPrefix.size()) == kPrefix; }

  // `tag`: this gateway instance's (ViewOptions::upload_tag), lowercase hex;
  // empty: temporaries carry none.
  explicit Uploads(std::string tag = {}) : tag_(std::move(tag)) {}
  // A fresh temporary name: the prefix, the tag and a dash when there is a
  // tag, 16 random hex digits.
  Name new_temporary_name() const;
  // Whether a temporary's name carries this instance's tag (without a tag:
  // every temporary is this instance's).
  bool is_own_temporary(std::string_view name) const;

  // What a name in a folder means now.
  struct Resolved {
    enum class Kind {
      plain,     // the backing object of that name
      upload,    // a new file in progress: its temporary
      reserved,  // a temporary name: the gateway's own, never a client's
      invalid,   // not a single path component
    };
    Kind kind = Kind::invalid;
    std::optional<Name> name;        // plain and upload: the name itself, checked
    std::optional<Name> on_disk;     // plain and upload: the backing object's name now
    std::shared_ptr<Upload> upload;  // upload: the one holding the name
  };
  Resolved resolve(const Inode& dir, std::string_view name) const;

  // A folder's listing: how each backing entry shows.
  class Listing {
   public:
    // The name to show for the backing entry `name`, or nullopt to hide it
    // (an overwrite's temporary, or one a dead worker left).
    std::optional<std::string> shown(const std::string& name) const;

   private:
    friend class Uploads;
    std::map<std::string, std::string> final_by_temporary_;
  };
  Listing listing(const Inode& dir) const;

  // Starts `upload` (writing): a new file's final name now resolves to its
  // temporary; an overwrite's kernel inode now stands for the temporary.
  void add(const std::shared_ptr<Upload>& upload);

  // The view renamed or removed the temporary standing for `name` in `dir`,
  // or another file was renamed onto `name`: the upload holding the name,
  // if any, lets go of it (detach).
  void detach(const Inode& dir, std::string_view name);

  // Applies `event` (with its errno, for fail and discard). A new file's
  // final name stops meaning its temporary once it starts publishing; an
  // ended upload leaves the registry, and an overwrite that ends unpublished
  // gives the kernel's inode back what it stood for before. Throws std::logic_error on a transition
  // fs/upload_state.hpp refuses: a bug, which the request's guard turns
  // into EIO and a log line.
  void apply(Upload& upload, UploadEvent event, int err = 0);

  UploadState state(const Upload& upload) const;
  // What a close reports: 0, the write error, ECANCELED, ECONNABORTED.
  int error(const Upload& upload) const;
  // An overwrite that ended without replacing the file: the kernel still
  // caches the content it was given, which must go.
  bool undone(const Upload& upload) const;

  // Whether `name` is the temporary of an upload this worker has not ended
  // (the sweep never takes it for a dead worker's).
  bool is_live_temporary(std::string_view name) const;
  std::size_t in_progress() const;

  // What the kernel's inode `node` stands for now when not its own backing
  // object: an overwrite's temporary, from the open on, and after the
  // publish the file that temporary became. Null otherwise.
  static std::shared_ptr<const Inode> redirect_of(const Inode& node);

 private:
  std::string tag_;
  // With mu_ held.
  void forget_name(const Upload& upload);
  void end(Upload& upload);

  mutable std::mutex mu_;  // guards the maps below and every Upload's private members
  std::map<std::pair<fuse_ino_t, std::string>, std::shared_ptr<Upload>> by_name_;  // (folder, final name)
  std::set<std::string, std::less<>> live_;  // temporaries of uploads not ended
  std::map<fuse_ino_t, std::weak_ptr<Upload>> overwriting_;  // kernel inode -> its latest overwrite not ended
};

}  // namespace gw::fs
