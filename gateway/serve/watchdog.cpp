#include "gateway/serve/watchdog.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <cerrno>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace gw::gateway {

using namespace std::chrono_literals;

Watchdog::Watchdog(std::string mountpoint, std::chrono::milliseconds timeout, std::function<std::uint64_t()> progress,
                   std::function<void()> on_hang, std::function<void()> on_slow)
    : mountpoint_(std::move(mountpoint)),
      timeout_(timeout),
      stall_(2 * timeout),
      progress_(std::move(progress)),
      on_hang_(std::move(on_hang)),
      on_slow_(std::move(on_slow)) {}

Watchdog::~Watchdog() { stop(); }

void Watchdog::start() {
  prober_ = std::thread([this] { probe_loop(); });
  watcher_ = std::thread([this] { watch(); });
}

void Watchdog::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  // The prober may still be stuck in a lookup on a hung mount; it ends when
  // the connection is aborted or the worker dies, so it is not joined.
  if (prober_.joinable()) prober_.detach();
}

void Watchdog::probe_loop() {
  const std::string probe = mountpoint_ + "/.gateway-watchdog-probe";
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || asked_ > answered_; });
    if (stopping_) return;
    const std::uint64_t n = asked_;
    lock.unlock();
    struct stat st {};
    // Any answer will do, but one: ENOTCONN says the connection is gone.
    const bool gone = ::stat(probe.c_str(), &st) != 0 && errno == ENOTCONN;
    lock.lock();
    answered_ = n;
    disconnected_ = gone;
    cv_.notify_all();
  }
}

bool Watchdog::answered_within_timeout(std::unique_lock<std::mutex>& lock, std::uint64_t n) {
  using Clock = std::chrono::steady_clock;
  const auto asked = Clock::now();
  auto last_progress = asked;
  std::uint64_t served = progress_();
  bool reported = false;
  for (;;) {
    if (cv_.wait_for(lock, 250ms, [&] { return stopping_ || answered_ >= n; })) {
      if (reported) spdlog::info("watchdog: the view answers again");
      return true;
    }
    const auto now = Clock::now();
    if (const std::uint64_t p = progress_(); p != served) {
      served = p;
      last_progress = now;
    }
    if (now - asked < timeout_) continue;
    if (now - last_progress >= stall_) return false;  // nothing served for the whole window: hung
    if (!reported && last_progress > asked) {
      spdlog::warn("watchdog: the view at {} is slow to answer (every worker thread busy) but still serving "
                   "requests; not a hang",
                   mountpoint_);
      reported = true;
      if (on_slow_) on_slow_();
    }
  }
}

void Watchdog::watch() {
  std::unique_lock lock(mu_);
  std::optional<std::chrono::steady_clock::time_point> gone_since;
  while (!stopping_) {
    ++asked_;
    cv_.notify_all();
    const std::uint64_t n = asked_;
    const bool answered = answered_within_timeout(lock, n);
    if (answered && replace_disconnected(gone_since)) {
      lock.unlock();
      on_hang_();
      lock.lock();
    }
    if (!answered) {
      lock.unlock();
      spdlog::error("watchdog: the view at {} did not answer within {} ms; aborting its connection (no request "
                    "served for {} ms)",
                    mountpoint_, timeout_.count(), stall_.count());
      if (!abort_fuse_connection(mountpoint_)) spdlog::warn("watchdog: no FUSE connection to abort found");
      on_hang_();
      gone_since.reset();  // the abort just made is this verdict's, not another
      lock.lock();
      // Wait for the stuck probe to come back before asking again.
      cv_.wait(lock, [&] { return stopping_ || answered_ >= n; });
    }
    cv_.wait_for(lock, 1s, [this] { return stopping_; });
  }
}

bool Watchdog::replace_disconnected(std::optional<std::chrono::steady_clock::time_point>& gone_since) {
  if (!disconnected_) {
    gone_since.reset();
    return false;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!gone_since) gone_since = now;
  if (now - *gone_since < stall_) return false;  // a worker that ends by itself is replaced sooner
  spdlog::error("watchdog: the view at {} has had no FUSE connection for {} ms (aborted by the kernel's request "
                "timeout or through /sys/fs/fuse/connections) while its worker lives on; replacing it",
                mountpoint_, stall_.count());
  gone_since.reset();
  return true;
}

namespace {

// The FUSE connection id is the minor device number of the mount, read from
// mountinfo (stat on the mount would hang with the worker).
std::string connection_id(const std::string& mountpoint) {
  std::ifstream in("/proc/self/mountinfo");
  std::string id;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string mount_id, parent, dev, root, point;
    fields >> mount_id >> parent >> dev >> root >> point;
    if (point != mountpoint || line.find(" - fuse") == std::string::npos) continue;
    const auto colon = dev.find(':');
    if (colon != std::string::npos && dev.substr(0, colon) == "0") id = dev.substr(colon + 1);
  }
  return id;  // the last one: the mount on top
}

}  // namespace

bool abort_fuse_connection(const std::string& mountpoint) {
  const std::string id = connection_id(mountpoint);
  if (id.empty()) return false;
  const std::string dir = "/sys/fs/fuse/connections";
  std::string abort_file = dir + "/" + id + "/abort";
  if (::access(abort_file.c_str(), W_OK) != 0) ::mount("fusectl", dir.c_str(), "fusectl", 0, nullptr);
  const int fd = ::open(abort_file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "1", 1) == 1;
  ::close(fd);
  return ok;
}

}  // namespace gw::gateway
