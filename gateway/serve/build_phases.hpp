// Where the worker's start and each reload spend their time, and the heap
// they leave: one log line each ("build (start): validate 31.0 ms, ...;
// heap 80.1 MiB"), which bench/benchlib/scale.py reads. Heap bytes (glibc's
// mallinfo2) do not depend on how busy the machine is, wall time does.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace gw::gateway {

class BuildPhases {
 public:
  BuildPhases() = default;
  // Started when this process was (its exec): the first mark then covers
  // everything before it, parsing the configuration included.
  static BuildPhases since_exec();

  // The time since the previous mark (or since construction) belongs to `phase`.
  void mark(const char* phase);
  // "validate 31.0 ms, plan 4.2 ms, ..., total 190.3 ms; heap 80.1 MiB"
  std::string summary() const;

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_ = Clock::now(), last_ = start_;
  std::vector<std::pair<const char*, double>> phases_;  // ms each
};

// Bytes malloc hands out now (in use, mmapped included), in MiB.
double heap_mib();

}  // namespace gw::gateway
