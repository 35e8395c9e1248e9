#include "fs/upload.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>

namespace gw::fs {
namespace {

// Every upload ends here once, whichever way: the one place to count them.
void count_ended(const Upload& upload, UploadState state) {
  MappingCounters* counters = upload.parent()->mapping ? upload.parent()->mapping->counters.get() : nullptr;
  if (!counters) return;
  switch (state) {
    case UploadState::published: counters->count_upload(UploadOutcome::published); break;
    case UploadState::cancelled: counters->count_upload(UploadOutcome::cancelled); break;
    case UploadState::dropped: counters->count_upload(UploadOutcome::dropped); break;
    case UploadState::discarded: counters->count_upload(UploadOutcome::discarded); break;
    default: break;  // not an end
  }
}

}  // namespace

Upload::Upload(InodePtr parent, Name final_name, Name temporary)
    : parent_(std::move(parent)), final_name_(std::move(final_name)), temporary_(std::move(temporary)) {}

Upload::Upload(InodePtr parent, Name final_name, Name temporary, Replacing replacing)
    : parent_(std::move(parent)),
      final_name_(std::move(final_name)),
      temporary_(std::move(temporary)),
      replacing_(std::move(replacing)) {}

Name Uploads::new_temporary_name() const {
  unsigned char bytes[8] = {};
  if (::getrandom(bytes, sizeof bytes, 0) != sizeof bytes) throw std::runtime_error("getrandom failed");
  std::string name(kPrefix);
  if (!tag_.empty()) name += tag_ + "-";
  char hex[3];
  for (const unsigned char b : bytes) {
    std::snprintf(hex, sizeof hex, "%02x", b);
    name += hex;
  }
  return *Name::from(name);
}

bool Uploads::is_own_temporary(std::string_view name) const {
  if (!is_temporary(name)) return false;
  if (tag_.empty()) return true;
  const std::string_view rest = name.substr(kPrefix.size());
  return rest.size() > tag_.size() && rest.substr(0, tag_.size()) == tag_ && rest[tag_.size()] == '-';
}

Uploads::Resolved Uploads::resolve(const Inode& dir, std::string_view name) const {
  Resolved r;
  if (is_temporary(name)) {
    r.kind = Resolved::Kind::reserved;
    return r;
  }
  r.name = Name::from(name);
  if (!r.name) return r;  // invalid
  {
    std::lock_guard lock(mu_);
    const auto it = by_name_.find({dir.id, r.name->str()});
    if (it != by_name_.end()) {
      r.kind = Resolved::Kind::upload;
      r.upload = it->second;
      r.on_disk = it->second->temporary();
      return r;
    }
  }
  r.kind = Resolved::Kind::plain;
  r.on_disk = r.name;
  return r;
}

std::optional<std::string> Uploads::Listing::shown(const std::string& name) const {
  if (!is_temporary(name)) return name;
  const auto it = final_by_temporary_.find(name);
  if (it == final_by_temporary_.end()) return std::nullopt;
  return it->second;
}

Uploads::Listing Uploads::listing(const Inode& dir) const {
  Listing out;
  std::lock_guard lock(mu_);
  for (auto it = by_name_.lower_bound({dir.id, std::string()}); it != by_name_.end() && it->first.first == dir.id; ++it)
    out.final_by_temporary_[it->second->temporary().str()] = it->first.second;
  return out;
}

void Uploads::add(const std::shared_ptr<Upload>& upload) {
  std::lock_guard lock(mu_);
  live_.insert(upload->temporary().str());
  if (!upload->overwrite()) {
    by_name_[{upload->parent()->id, upload->final_name().str()}] = upload;
    return;
  }
  // The kernel's inode stands for the temporary from now on. Another
  // overwrite of the same file may be in progress: its redirect comes back
  // if this one ends unpublished.
  Inode& node = *upload->replacing().node;
  std::weak_ptr<Upload>& latest = overwriting_[node.id];
  if (auto before = latest.lock(); before && !ended(before->state_)) upload->before_ = std::move(before);
  latest = upload;
  std::lock_guard node_lock(node.mu_);
  upload->previous_ = std::exchange(node.redirect_, upload->replacing().replacement);
}

void Uploads::detach(const Inode& dir, std::string_view name) {
  std::lock_guard lock(mu_);
  const auto it = by_name_.find({dir.id, std::string(name)});
  if (it == by_name_.end()) return;
  Upload& upload = *it->second;
  const auto next = after(upload.state_, UploadEvent::detach);
  if (!next) throw std::logic_error("upload: detach in state " + std::string(fs::name(upload.state_)));
  upload.state_ = *next;
  by_name_.erase(it);
}

void Uploads::apply(Upload& upload, UploadEvent event, int err) {
  std::lock_guard lock(mu_);
  const UploadState before = upload.state_;
  const auto next = after(before, event);
  if (!next)
    throw std::logic_error("upload: " + std::string(name(event)) + " in state " + std::string(name(before)));
  upload.state_ = *next;
  switch (event) {
    case UploadEvent::fail:
      if (*next == UploadState::failed) upload.error_ = err;
      break;
    case UploadEvent::cancel:
      upload.error_ = ECANCELED;
      break;
    case UploadEvent::discard:
      // Why it was not published, for the close and the audit line.
      if (err) upload.error_ = err;
      else if (upload.error_ == 0 && before == UploadState::abandoned) upload.error_ = ECONNABORTED;
      break;
    case UploadEvent::start_publish:
      // From here the final name means what the rename makes of it.
      forget_name(upload);
      break;
    default:
      break;
  }
  if (ended(*next) && !ended(before)) end(upload);
}

void Uploads::forget_name(const Upload& upload) {
  const auto it = by_name_.find({upload.parent()->id, upload.final_name().str()});
  if (it != by_name_.end() && it->second.get() == &upload) by_name_.erase(it);
}

void Uploads::end(Upload& upload) {
  count_ended(upload, upload.state_);
  live_.erase(upload.temporary().str());
  forget_name(upload);
  if (!upload.overwrite()) return;
  const bool published = upload.state_ == UploadState::published;
  // Unpublished: the kernel's inode stands for what it stood for before this
  // overwrite started: the old file, another overwrite still in progress or
  // one published since, never the temporary of one that ended unpublished
  // meanwhile.
  std::shared_ptr<const Inode> back = upload.previous_;
  std::shared_ptr<Upload> before = upload.before_;
  while (before && ended(before->state_) && before->state_ != UploadState::published) {
    back = before->previous_;
    before = before->before_;
  }
  Inode& node = *upload.replacing().node;
  if (const auto it = overwriting_.find(node.id); it != overwriting_.end() && it->second.lock().get() == &upload) {
    if (!published && before && !ended(before->state_)) it->second = before;
    else overwriting_.erase(it);
  }
  if (published) return;  // the inode stands for the file the temporary became
  // Unless a later overwrite redirected it meanwhile.
  std::lock_guard node_lock(node.mu_);
  if (node.redirect_ == upload.replacing().replacement) node.redirect_ = std::move(back);
}

UploadState Uploads::state(const Upload& upload) const {
  std::lock_guard lock(mu_);
  return upload.state_;
}

int Uploads::error(const Upload& upload) const {
  std::lock_guard lock(mu_);
  return upload.error_;
}

bool Uploads::undone(const Upload& upload) const {
  std::lock_guard lock(mu_);
  return upload.overwrite() && (upload.state_ == UploadState::cancelled || upload.state_ == UploadState::discarded);
}

bool Uploads::is_live_temporary(std::string_view name) const {
  std::lock_guard lock(mu_);
  return live_.find(name) != live_.end();
}

std::size_t Uploads::in_progress() const {
  std::lock_guard lock(mu_);
  return live_.size();
}

std::shared_ptr<const Inode> Uploads::redirect_of(const Inode& node) {
  std::lock_guard lock(node.mu_);
  return node.redirect_;
}

}  // namespace gw::fs
