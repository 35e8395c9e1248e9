#include "fs/quota_steps.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>

namespace gw::fs {

Outcome refuse_quota(const View& view, const Inode& node, Op op, const Caller& who, const FolderQuota& full,
                     std::string_view name) {
  spdlog::info("quota {}: full for {} on {}", full.name(), info(op).name,
               node.is_backed() ? std::string_view(node.mapping->label) : std::string_view("view"));
  return view.policy().refuse(node, op, who, EDQUOT, "quota", name);
}

Usage usage_of(const struct stat& st) {
  const bool sized = S_ISREG(st.st_mode) || S_ISLNK(st.st_mode);
  return Usage{sized && st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) : 0, 1};
}

const FolderQuota* NewEntry::take(std::uint64_t bytes) {
  if (!chain_ || taken_) return nullptr;
  const Usage more{bytes, 1};
  if (const FolderQuota* full = take_all(*chain_, more)) return full;
  taken_usage_ = more;
  taken_ = true;
  return nullptr;
}

Departing::Departing(const View& view, const Inode& dir, int dir_fd, const char* name)
    : chain_(quota_chain(view, dir)) {
  if (chain_) found_ = sys::fstatat_nofollow(dir_fd, name, &st_) == 0;
}

void Departing::gone(Entry entry) const {
  if (!chain_ || !found_) return;
  // A hard-linked file counts once: it is freed with its last name.
  if (!S_ISDIR(st_.st_mode) && st_.st_nlink > 1) return;
  Usage freed = usage_of(st_);
  if (entry == keeps_entry) freed.files = 0;
  give_all(*chain_, freed);
}

}  // namespace gw::fs
