// libFuzzer target: authorized key validation (libssh underneath). Any input
// is either accepted as a key or refused with a message; nothing else.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gateway/keys/authorized_key.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)gw::gateway::check_key_lines(text);
  return 0;
}
