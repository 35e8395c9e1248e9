// Reading what the worker records about the limited folders for `gateway
// status`: <state-dir>/quota.json (its format is in the worker's writer),
// {"folders": [{"folder": "thttpd_files/site", "mappings": ["ryan:web"],
// "bytes": 123, "bytes_limit": 5368709120, "files": 4, "files_limit": null,
// "counted": true, "counted_at": "2026-12-05T10:00:00Z"}]}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::gateway {

struct FolderUsage {
  std::string folder;                 // "thttpd_files/site", "~ryan"
  std::vector<std::string> mappings;  // "ryan:web", "ryan:~"
  std::uint64_t bytes = 0;
  std::optional<std::uint64_t> bytes_limit;  // nullopt: not limited
  std::uint64_t files = 0;
  std::optional<std::uint64_t> files_limit;
  bool counted = false;                // false until the first count finished: bytes and files mean nothing yet
  std::string counted_at;              // when the last count finished (UTC, ISO 8601); "" before
};

struct QuotaUsage {
  std::vector<FolderUsage> folders;
  std::string problem;  // why the document could not be read; folders is then empty
};

// The document's folders; a document that is not what the worker writes
// (not JSON, a field missing or of another type) gives a problem instead.
QuotaUsage parse_quota_usage(std::string_view json);

// <state-dir>/quota.json read and parsed; nullopt when there is no such file
// (no limited folders, or no gateway has run with this state folder).
std::optional<QuotaUsage> read_quota_usage(const std::string& state_dir);

}  // namespace gw::gateway
