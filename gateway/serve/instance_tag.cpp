#include "gateway/serve/instance_tag.hpp"

#include <spdlog/spdlog.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gateway/atomic_file.hpp"
#include "gateway/exit_codes.hpp"

namespace gw::gateway {
namespace {

constexpr std::size_t kTagDigits = 8;

bool is_tag(const std::string& text) {
  return text.size() == kTagDigits &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string new_tag() {
  unsigned char bytes[kTagDigits / 2] = {};
  if (::getrandom(bytes, sizeof bytes, 0) != sizeof bytes) throw ExitError(exit_code::failure, "getrandom failed");
  std::string tag;
  char hex[3];
  for (const unsigned char b : bytes) {
    std::snprintf(hex, sizeof hex, "%02x", b);
    tag += hex;
  }
  return tag;
}

}  // namespace

std::string instance_tag(const std::string& state_dir) {
  const std::string path = state_dir + "/instance";
  std::string text;
  if (std::ifstream in(path); in) std::getline(in, text);
  if (is_tag(text)) return text;
  std::error_code ec;
  if (!std::filesystem::exists(state_dir, ec)) {
    std::filesystem::create_directories(state_dir, ec);
    if (ec || ::chmod(state_dir.c_str(), 0700) != 0)
      throw ExitError(exit_code::failure, "cannot create the state folder " + state_dir);
  }
  if (!text.empty()) spdlog::warn("{} holds no instance tag; making a new one", path);
  const std::string tag = new_tag();
  replace_file(path, tag + "\n", 0644);
  return tag;
}

}  // namespace gw::gateway
