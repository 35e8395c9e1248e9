#include "gateway/check/folder_probe.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace gw::gateway {

FolderState probe_folder(const std::string& path) {
  FolderState state;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    // ENOENT and ENOTDIR (a file where a parent folder should be) both mean
    // "not there"; anything else (EACCES, ELOOP) is worth showing verbatim.
    if (errno != ENOENT && errno != ENOTDIR) state.error = std::strerror(errno);
    return state;
  }
  state.exists = true;
  state.is_directory = S_ISDIR(st.st_mode);
  state.uid = st.st_uid;
  state.gid = st.st_gid;
  state.mode = st.st_mode & 07777;
  state.device = st.st_dev;
  return state;
}

}  // namespace gw::gateway
