#include "fs/pending_uploads.hpp"

#include <sys/random.h>

#include <cstdio>

namespace gw::fs {

std::string PendingUploads::new_temporary_name() {
  unsigned char bytes[8] = {};
  if (::getrandom(bytes, sizeof bytes, 0) != sizeof bytes) throw std::runtime_error("getrandom failed");
  std::string name(kPrefix);
  char hex[3];
  for (const unsigned char b : bytes) {
    std::snprintf(hex, sizeof hex, "%02x", b);
    name += hex;
  }
  return name;
}

void PendingUploads::add(fuse_ino_t dir, const std::string& name, const std::string& temporary) {
  std::lock_guard lock(mu_);
  by_name_[{dir, name}] = temporary;
}

std::optional<std::string> PendingUploads::temporary_of(fuse_ino_t dir, const std::string& name) const {
  std::lock_guard lock(mu_);
  const auto it = by_name_.find({dir, name});
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, std::string> PendingUploads::in(fuse_ino_t dir) const {
  std::map<std::string, std::string> out;
  std::lock_guard lock(mu_);
  for (auto it = by_name_.lower_bound({dir, std::string()}); it != by_name_.end() && it->first.first == dir; ++it)
    out[it->second] = it->first.second;
  return out;
}

bool PendingUploads::finish(fuse_ino_t dir, const std::string& name, const std::string& temporary) {
  std::lock_guard lock(mu_);
  const auto it = by_name_.find({dir, name});
  if (it == by_name_.end() || it->second != temporary) return false;
  by_name_.erase(it);
  return true;
}

}  // namespace gw::fs
