// quota_scan_bench: times fs::count_usage on a folder, for bench/run's quota
// group (never part of the gateway binary). Counts `runs` times (default 2:
// the first warms the caches) and prints one JSON object: what the last run
// counted and each run's seconds.
//
//   quota_scan_bench FOLDER [RUNS]
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fs/quota_scan.hpp"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: quota_scan_bench FOLDER [RUNS]\n");
    return 2;
  }
  const int runs = argc == 3 ? std::atoi(argv[2]) : 2;
  if (runs < 1) {
    std::fprintf(stderr, "quota_scan_bench: RUNS must be a number >= 1, not '%s'\n", argv[2]);
    return 2;
  }
  const int dir = ::open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    std::fprintf(stderr, "quota_scan_bench: %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  std::vector<double> seconds;
  gw::fs::ScanResult r;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    r = gw::fs::count_usage(dir);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  ::close(dir);
  std::string list;
  for (const double s : seconds) list += (list.empty() ? "" : ", ") + std::to_string(s);
  std::printf("{\"files\": %llu, \"bytes\": %llu, \"unreadable\": %llu, \"complete\": %s, \"seconds\": [%s]}\n",
              static_cast<unsigned long long>(r.usage.files), static_cast<unsigned long long>(r.usage.bytes),
              static_cast<unsigned long long>(r.unreadable), r.complete ? "true" : "false", list.c_str());
  return 0;
}
