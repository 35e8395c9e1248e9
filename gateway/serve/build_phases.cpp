#include "gateway/serve/build_phases.hpp"

#include <malloc.h>

#include <fmt/format.h>

namespace gw::gateway {

void BuildPhases::mark(const char* phase) {
  const Clock::time_point now = Clock::now();
  phases_.emplace_back(phase, std::chrono::duration<double, std::milli>(now - last_).count());
  last_ = now;
}

std::string BuildPhases::summary() const {
  std::string out;
  for (const auto& [phase, ms] : phases_) out += fmt::format("{} {:.1f} ms, ", phase, ms);
  out += fmt::format("total {:.1f} ms; heap {:.1f} MiB",
                     std::chrono::duration<double, std::milli>(last_ - start_).count(), heap_mib());
  return out;
}

double heap_mib() {
  const struct mallinfo2 m = ::mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd) / (1024.0 * 1024.0);
}

}  // namespace gw::gateway
