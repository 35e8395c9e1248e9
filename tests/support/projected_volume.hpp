// A folder laid out and updated exactly as the kubelet's atomic writer does
// for a ConfigMap or Secret volume (kubernetes pkg/volume/util/atomic_writer.go):
// the files live in a hidden timestamped folder, `..data` links to it, and
// each key is a link `<key> -> ..data/<key>`. An update writes a new folder,
// links `..data_tmp` to it, renames that over `..data` (the one atomic step),
// then removes the old folder. The key links are made once and never change,
// so a watcher sees only the `..data` rename.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace gw::test {

class ProjectedVolume {
 public:
  explicit ProjectedVolume(std::filesystem::path dir);

  // Makes the volume's content exactly `files` (key -> content).
  void publish(const std::map<std::string, std::string>& files);

  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
  unsigned generation_ = 0;
};

}  // namespace gw::test
