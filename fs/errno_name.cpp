#include "fs/errno_name.hpp"

#include <cstring>

namespace gw::fs {

std::string_view errno_name(int err) {
  const char* name = strerrorname_np(err);  // glibc 2.32+; static storage, thread-safe
  return name ? name : "error";
}

}  // namespace gw::fs
