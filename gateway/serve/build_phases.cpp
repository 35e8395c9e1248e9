#include "gateway/serve/build_phases.hpp"

#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

namespace gw::gateway {

BuildPhases BuildPhases::since_exec() {
  BuildPhases p;
  // /proc/self/stat field 22: the start, in clock ticks since boot.
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');  // the command name may hold blanks
  if (paren == std::string::npos) return p;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  struct timespec boot {};
  ::clock_gettime(CLOCK_BOOTTIME, &boot);
  const double started = std::strtod(field.c_str(), nullptr) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double ago = static_cast<double>(boot.tv_sec) + static_cast<double>(boot.tv_nsec) / 1e9 - started;
  if (ago > 0 && ago < 3600) {
    p.start_ = p.last_ = Clock::now() - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(ago));
  }
  return p;
}

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
