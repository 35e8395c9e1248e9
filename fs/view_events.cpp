#include "fs/view_events.hpp"

#include <sys/stat.h>

#include "fs/audit.hpp"
#include "fs/sys.hpp"

namespace gw::fs {

std::string volume_path_of(const MappingRoot& m, std::string_view path) {
  std::string_view below = path;
  // Every backed inode is placed below its mapping's root (fs/inode.hpp);
  // the check only keeps a path that is not from reading past the prefix.
  if (below.starts_with(m.view_path) && (below.size() == m.view_path.size() || below[m.view_path.size()] == '/'))
    below.remove_prefix(m.view_path.size());
  while (below.starts_with('/')) below.remove_prefix(1);
  if (m.volume_folder.empty()) return std::string(below);
  if (below.empty()) return m.volume_folder;
  std::string joined = m.volume_folder;
  joined += '/';
  joined += below;
  return joined;
}

Event event_in(const MappingRoot& m, EventKind kind, std::string path) {
  Event e;
  e.kind = kind;
  e.user = m.user.name;
  e.mapping = m.label;
  e.volume = m.volume;
  e.volume_path = volume_path_of(m, path);
  e.path = std::move(path);
  return e;
}

void ViewEvents::record(const Event& event) const noexcept {
  log_->record(event);
  if (metrics_) metrics_->event_recorded(event.kind);
}

void ViewEvents::upload_published(const MappingRoot& m, const std::string& path, std::uint64_t size,
                                  bool replaced) const noexcept {
  if (!wants(m, EventKind::upload)) return;
  try {
    Event e = event_in(m, EventKind::upload, path);
    e.size = size;
    e.replaced = replaced;
    record(e);
  } catch (...) {  // no memory for the strings: the event is lost, the upload is not
  }
}

void ViewEvents::written_file_released(const Inode& file, int fd) const noexcept {
  if (!file.is_backed() || !wants(*file.mapping, EventKind::upload)) return;
  struct stat st {};
  if (sys::fstat(fd, &st) != 0 || st.st_nlink == 0) return;
  try {
    Event e = event_in(*file.mapping, EventKind::upload, file.path());
    e.size = static_cast<std::uint64_t>(st.st_size);
    record(e);
  } catch (...) {
  }
}

void ViewEvents::removed(const Inode& folder, std::string_view name, Op op) const noexcept {
  if (!folder.is_backed() || !wants(*folder.mapping, EventKind::remove)) return;
  try {
    Event e = event_in(*folder.mapping, EventKind::remove, child_path(folder, name));
    e.type = op == Op::rmdir ? "folder" : "file";
    record(e);
  } catch (...) {
  }
}

void ViewEvents::renamed(const Inode& from, std::string_view name, const Inode& to,
                         std::string_view to_path) const noexcept {
  if (!from.is_backed() || !to.is_backed() || !wants(*from.mapping, EventKind::rename)) return;
  try {
    Event e = event_in(*from.mapping, EventKind::rename, child_path(from, name));
    e.to = to_path;
    e.to_volume_path = volume_path_of(*to.mapping, to_path);
    record(e);
  } catch (...) {
  }
}

void ViewEvents::folder_made(const Inode& folder, std::string_view name) const noexcept {
  if (!folder.is_backed() || !wants(*folder.mapping, EventKind::mkdir)) return;
  try {
    record(event_in(*folder.mapping, EventKind::mkdir, child_path(folder, name)));
  } catch (...) {
  }
}

void ViewEvents::refused(const Inode& node, std::string_view name, Op op, std::string_view reason,
                         int err) const noexcept {
  if (!node.is_backed() || !wants(*node.mapping, EventKind::refusal)) return;
  try {
    Event e = event_in(*node.mapping, EventKind::refusal, name.empty() ? node.path() : child_path(node, name));
    e.op = info(op).name;
    e.reason = reason;
    e.err = err;
    record(e);
  } catch (...) {
  }
}

}  // namespace gw::fs
