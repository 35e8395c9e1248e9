#include "fs/quota.hpp"

#include <algorithm>
#include <utility>

namespace gw::fs {
namespace {

bool passes(std::uint64_t used, std::uint64_t more, const std::optional<std::uint64_t>& limit) {
  return limit && more > 0 && (used > *limit || more > *limit - used);
}

std::uint64_t minus(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

}  // namespace

bool FolderQuota::take(Usage more) {
  std::lock_guard lock(mu_);
  if (limit_.any() && !counted_ && (more.bytes > 0 || more.files > 0)) return false;
  if (passes(used_.bytes, more.bytes, limit_.bytes) || passes(used_.files, more.files, limit_.files)) return false;
  used_.bytes += more.bytes;
  used_.files += more.files;
  if (counting_) {
    grown_.bytes += more.bytes;
    grown_.files += more.files;
  }
  return true;
}

void FolderQuota::give(Usage less) {
  std::lock_guard lock(mu_);
  used_.bytes = minus(used_.bytes, less.bytes);
  used_.files = minus(used_.files, less.files);
}

void FolderQuota::force(Usage more) {
  std::lock_guard lock(mu_);
  used_.bytes += more.bytes;
  used_.files += more.files;
  if (counting_) {
    grown_.bytes += more.bytes;
    grown_.files += more.files;
  }
}

FolderQuota::Snapshot FolderQuota::snapshot() const {
  std::lock_guard lock(mu_);
  return Snapshot{name_, mappings_, used_, limit_, counted_, counted_at_};
}

bool FolderQuota::ask_count() {
  std::lock_guard lock(mu_);
  return !std::exchange(count_asked_, true);
}

void FolderQuota::count_started() {
  std::lock_guard lock(mu_);
  count_asked_ = false;
  counting_ = true;
  grown_ = Usage{};
}

void FolderQuota::count_finished(Usage found) {
  std::lock_guard lock(mu_);
  counting_ = false;
  used_.bytes = found.bytes + grown_.bytes;
  used_.files = found.files + grown_.files;
  counted_ = true;
  counted_at_ = std::time(nullptr);
}

void FolderQuota::count_abandoned() {
  std::lock_guard lock(mu_);
  counting_ = false;
}

void FolderQuota::configure(const mapping::Limit& limit, std::vector<std::string> mappings) {
  std::lock_guard lock(mu_);
  limit_ = limit;
  mappings_ = std::move(mappings);
}

void FolderQuota::set_place(dev_t dev, ino_t ino) {
  std::lock_guard lock(mu_);
  dev_ = dev;
  ino_ = ino;
}

bool FolderQuota::is_at(dev_t dev, ino_t ino) const {
  std::lock_guard lock(mu_);
  return dev_ == dev && ino_ == ino;
}

const FolderQuota* take_all(const QuotaChain& chain, Usage more) {
  for (std::size_t i = 0; i < chain.size(); ++i) {
    if (chain[i]->take(more)) continue;
    for (std::size_t j = 0; j < i; ++j) chain[j]->give(more);
    return chain[i].get();
  }
  return nullptr;
}

void give_all(const QuotaChain& chain, Usage less) {
  for (const QuotaPtr& q : chain) q->give(less);
}

QuotaPtr Quotas::folder(const std::string& name, const mapping::Limit& limit) const {
  std::lock_guard lock(mu_);
  if (const auto it = folders_.find(name); it != folders_.end()) return it->second;
  return std::make_shared<FolderQuota>(name, limit);
}

void Quotas::install(std::map<std::string, QuotaPtr> folders) {
  std::lock_guard lock(mu_);
  for (const auto& [name, quota] : folders_)
    if (!folders.count(name)) quota->configure(mapping::Limit{}, {});
  folders_ = std::move(folders);
  any_.store(!folders_.empty(), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::vector<QuotaPtr> Quotas::all() const {
  std::lock_guard lock(mu_);
  std::vector<QuotaPtr> out;
  for (const auto& [name, quota] : folders_) out.push_back(quota);
  return out;
}

std::vector<FolderQuota::Snapshot> Quotas::report() const {
  std::vector<FolderQuota::Snapshot> out;
  for (const QuotaPtr& q : all()) out.push_back(q->snapshot());
  return out;
}

}  // namespace gw::fs
