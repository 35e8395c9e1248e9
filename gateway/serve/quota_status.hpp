// The worker's record of the limited folders for `gateway status`:
// <state-dir>/quota.json (each folder's limits, usage and whether it has
// been counted), replaced whole whenever usage changed, at most once a
// second, and removed when the worker ends cleanly.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "fs/quota.hpp"

namespace gw::gateway {

std::string quota_status_path(const std::string& state_dir);

// The JSON document of `folders` (the format `gateway status` reads).
std::string render_quota_status(const std::vector<fs::FolderQuota::Snapshot>& folders);

class QuotaStatus {
 public:
  QuotaStatus(const fs::Quotas& quotas, std::string state_dir);
  QuotaStatus(const QuotaStatus&) = delete;
  QuotaStatus& operator=(const QuotaStatus&) = delete;
  ~QuotaStatus();  // stops; the file goes

 private:
  void run();
  void write_if_changed();

  const fs::Quotas& quotas_;
  const std::string path_;
  std::string written_;  // the content last written
  std::mutex mu_;        // guards stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gw::gateway
