// libFuzzer target: the config file scanner (line numbers for messages).
// Bad input must end as problems, one printable line each of bounded length,
// never anything else.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gateway/options/config_file.hpp"
#include "gateway/exit_codes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const gw::gateway::ConfigFile file = gw::gateway::scan_config("fuzz.conf", text);
    for (const auto& e : file.entries)
      if (e.line < 1 || e.key.empty()) std::abort();
    for (const auto& p : file.problems) {
      if (p.size() > 1024) std::abort();
      for (const char c : p)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
    }
  } catch (const gw::gateway::UsageError&) {
  }
  return 0;
}
