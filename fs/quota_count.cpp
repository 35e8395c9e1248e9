#include "fs/quota_count.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>

#include "fs/quota_scan.hpp"
#include "fs/request.hpp"
#include "fs/sys.hpp"

namespace gw::fs {
namespace {

void count(View& view, const QuotaPtr& quota, const InodePtr& root, const std::atomic<bool>& stopping) {
  quota->count_started();
  auto path = node_fd(view, *root);
  sys::Result<UniqueFd> dir = path.ok() ? sys::reopen(view.proc_fd(), path.value->get(), O_RDONLY | O_DIRECTORY)
                                        : sys::Result<UniqueFd>{UniqueFd(), path.err};
  if (!dir.ok()) {
    quota->count_abandoned();
    spdlog::warn("quota {}: cannot count: {}", quota->name(), std::strerror(dir.err));
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  const ScanResult found = count_usage(dir.value.get(), &stopping);
  if (!found.complete) {
    quota->count_abandoned();
    return;
  }
  quota->count_finished(found.usage);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("quota {}: {} bytes in {} files and folders, counted in {:.2f} s{}", quota->name(), found.usage.bytes,
               found.usage.files, seconds,
               found.unreadable ? " (" + std::to_string(found.unreadable) + " folders unreadable)" : std::string());
}

}  // namespace

void count_folders(View& view, const std::vector<CountTarget>& targets) {
  for (const CountTarget& target : targets) {
    if (!target.first->ask_count()) continue;
    view.background().post([&view, target](const std::atomic<bool>& stopping) {
      count(view, target.first, target.second, stopping);
    });
  }
}

Rescans::~Rescans() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Rescans::set(View& view, double interval, std::vector<CountTarget> targets) {
  {
    std::lock_guard lock(mu_);
    view_ = &view;
    interval_ = interval;
    targets_ = std::move(targets);
    if (!thread_.joinable() && interval_ > 0 && !targets_.empty()) thread_ = std::thread([this, &view] { run(&view); });
  }
  wake_.notify_all();  // a new interval starts now (a reload has just counted)
}

void Rescans::count_now() {
  std::vector<CountTarget> targets;
  View* view = nullptr;
  {
    std::lock_guard lock(mu_);
    targets = targets_;
    view = view_;
  }
  if (view) count_folders(*view, targets);
}

void Rescans::run(View* view) {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto wait = std::chrono::duration<double>(interval_ > 0 ? interval_ : 3600.0);
    if (wake_.wait_for(lock, wait) == std::cv_status::no_timeout) continue;  // stopping, or a new set
    if (interval_ <= 0 || targets_.empty()) continue;
    const std::vector<CountTarget> targets = targets_;
    lock.unlock();
    count_folders(*view, targets);
    lock.lock();
  }
}

}  // namespace gw::fs
