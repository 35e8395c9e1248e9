// What the view's operations tell the gateway's EventLog (fs/event.hpp):
// one method per moment an event happens, each called once the operation
// succeeded (or was refused) and before its reply, so the event is spooled
// before the client learns of what it reports. Without a log, or for a kind
// the object's mapping does not report (MappingRoot::events), a method
// returns at once: no path is computed, no string built.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fs/event.hpp"
#include "fs/inode.hpp"
#include "fs/metrics.hpp"
#include "fs/op.hpp"

namespace gw::fs {

class ViewEvents {
 public:
  // Events recorded are counted in `metrics` (the View's), if given.
  explicit ViewEvents(Metrics* metrics = nullptr) : metrics_(metrics) {}

  // Set before the session runs (its threads read it unlocked); null: none.
  void set_log(EventLog* log) { log_ = log; }
  EventLog* log() const { return log_; }

  bool wants(const MappingRoot& m, EventKind kind) const { return log_ && (m.events & bit(kind)); }

  // An atomic upload took its name, `path` (fs/upload_steps.cpp's publish).
  void upload_published(const MappingRoot& m, const std::string& path, std::uint64_t size,
                        bool replaced) const noexcept;
  // A handle that wrote was released without an atomic upload (a noatomic
  // mapping, a write in place): an upload of what `fd` holds now. Whether
  // it replaced a file is not known there. A file removed meanwhile is gone,
  // not uploaded: no event.
  void written_file_released(const Inode& file, int fd) const noexcept;
  // unlink (a "file") or rmdir (a "folder") of `name` in `folder`.
  void removed(const Inode& folder, std::string_view name, Op op) const noexcept;
  // `name` in `from` renamed to `to_path` (in the user's view) in `to`,
  // within one mapping (a rename across mappings is refused).
  void renamed(const Inode& from, std::string_view name, const Inode& to, std::string_view to_path) const noexcept;
  void folder_made(const Inode& folder, std::string_view name) const noexcept;
  // Policy::refuse's refusal of `op` on `node` (or on `name` in it); the
  // view's own synthetic tree has no mapping and reports nothing.
  void refused(const Inode& node, std::string_view name, Op op, std::string_view reason, int err) const noexcept;

 private:
  void record(const Event& event) const noexcept;

  EventLog* log_ = nullptr;
  Metrics* metrics_;
};

// An event of `kind` about `path` (in the user's view) inside mapping `m`,
// with the facts every event has: user, mapping, volume, path, volume_path.
Event event_in(const MappingRoot& m, EventKind kind, std::string path);

// `path` (in the user's view, below m.view_path) relative to the root of
// the mapping's volume (of the home, for a home): m.volume_folder joined
// with the part below the mapping's folder; "" for a home's or a volume's
// root, never starting with '/'.
std::string volume_path_of(const MappingRoot& m, std::string_view path);

}  // namespace gw::fs
