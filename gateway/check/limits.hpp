// The limited folders of a plan as `gateway check` shows them: each folder
// once, with its limit, the mappings of it, and what it holds now, counted
// the way serve counts it at start (fs/quota_scan.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fs/quota_scan.hpp"
#include "mapping/model.hpp"
#include "mapping/plan.hpp"

namespace gw::gateway {

struct LimitReport {
  std::string folder;                 // mapping::folder_key or home_key: "thttpd_files/site", "~ryan"
  mapping::Limit limit;
  std::vector<std::string> mappings;  // the mappings of the folder, "ryan:web" or "ryan:~", in plan order
  std::string backing;
  std::optional<fs::Usage> usage;     // what it holds now; nullopt when it could not be counted
  std::uint64_t unreadable = 0;       // subfolders the count could not enter (their contents are missing)
  std::string problem;                // why it was not counted, when it was not
};

// Reads the disk: opens each folder as the view does (a rule's subdir walked
// confined below its volume) and counts what is below it. A home that does
// not exist yet holds nothing. For a plan preflight() passed.
std::vector<LimitReport> limit_reports(const mapping::Plan& plan);

}  // namespace gw::gateway
