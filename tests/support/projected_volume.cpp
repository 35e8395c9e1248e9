#include "support/projected_volume.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace gw::test {

namespace fsys = std::filesystem;

ProjectedVolume::ProjectedVolume(fsys::path dir) : dir_(std::move(dir)) { fsys::create_directories(dir_); }

void ProjectedVolume::publish(const std::map<std::string, std::string>& files) {
  const fsys::path data = dir_ / "..data";
  std::error_code ec;
  const fsys::path old = fsys::is_symlink(data, ec) ? fsys::read_symlink(data) : fsys::path();
  const std::string folder = "..2026_12_05_00_00_00." + std::to_string(++generation_);
  fsys::create_directory(dir_ / folder);
  for (const auto& [key, content] : files) std::ofstream(dir_ / folder / key, std::ios::binary) << content;
  fsys::create_symlink(folder, dir_ / "..data_tmp");
  if (std::rename((dir_ / "..data_tmp").c_str(), data.c_str()) != 0)
    throw std::system_error(errno, std::generic_category(), "rename ..data_tmp");
  for (const auto& [key, content] : files)
    if (!fsys::is_symlink(dir_ / key, ec)) fsys::create_symlink(fsys::path("..data") / key, dir_ / key);
  for (const auto& entry : fsys::directory_iterator(dir_)) {  // keys gone from the volume lose their link
    const std::string name = entry.path().filename();
    if (name.starts_with("..") || files.count(name) != 0) continue;
    fsys::remove(entry.path());
  }
  if (!old.empty()) fsys::remove_all(dir_ / old);
}

}  // namespace gw::test
