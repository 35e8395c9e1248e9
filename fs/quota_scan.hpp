// Counting what a limited folder holds (fs/quota.hpp), by walking it.
#pragma once

#include <atomic>
#include <cstdint>

namespace gw::fs {

struct Usage {
  std::uint64_t bytes = 0;
  std::uint64_t files = 0;
  bool operator==(const Usage&) const = default;
};

struct ScanResult {
  Usage usage;
  std::uint64_t unreadable = 0;
  bool complete = true;
};

ScanResult count_usage(int dir, const std::atomic<bool>* stopping = nullptr);

}  // namespace gw::fs
