// Listings of a folder bigger than one FUSE request (issue 16). The kernel
// asks for names with attributes (READDIRPLUS) at the start of a listing and
// after lookups in the folder, for names only (READDIR) otherwise; both must
// show the same entries: every name once, nothing mounted inside the volume,
// a fifo as the regular file a lookup shows.
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "mount/metrics_page.hpp"
#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

constexpr int kFiles = 3000;  // about 30 names-only requests, 120 with attributes

// Names and d_type of a listing, without looking any entry up (like ls -f).
std::map<std::string, std::vector<unsigned char>> list_names(const std::string& dir) {
  std::map<std::string, std::vector<unsigned char>> seen;
  DIR* d = ::opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (const struct dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") seen[n].push_back(e->d_type);
  }
  ::closedir(d);
  return seen;
}

}  // namespace

TEST_CASE("a big folder listed by names only: every name once, nothing mounted inside, fifos as files",
          "[listing]") {
  MountedView v;
  const std::string web = v.add_volume("web");
  // Made first: a folder lists its newest entries first on tmpfs, and these
  // must come in the names-only requests after the first one.
  make_dir(web + "/mnt", kVolumeOwner, kVolumeOwner, 0755);
  write_file(web + "/bound", "volume's own", kVolumeOwner, kVolumeOwner);
  REQUIRE(::mkfifo((web + "/pipe").c_str(), 0644) == 0);
  REQUIRE(::chown((web + "/pipe").c_str(), kVolumeOwner, kVolumeOwner) == 0);
  for (int i = 0; i < kFiles; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/file-%05d", i);
    REQUIRE(::mknod((web + name).c_str(), S_IFREG | 0644, 0) == 0);
    REQUIRE(::chown((web + name).c_str(), kVolumeOwner, kVolumeOwner) == 0);
  }
  REQUIRE(::mount("tmpfs", (web + "/mnt").c_str(), "tmpfs", 0, "size=1m,mode=0755") == 0);
  make_dir(v.tree() / "host", 0, 0, 0755);
  write_file(v.tree() / "host/secret", "host secret", 0, 0, 0644);
  REQUIRE(::mount((v.tree() / "host/secret").c_str(), (web + "/bound").c_str(), nullptr, MS_BIND, nullptr) == 0);
  const int port = free_loopback_port();
  v.start(ViewSpec{{ann}, {"web:ann:web"}, {"--metrics-listen", "127.0.0.1:" + std::to_string(port)}});
  const std::string view = v.home(ann) + "/web";

  const long plain_before = requests_ok(port, "readdir");
  const auto seen = list_names(view);
  // The kernel asked for names only after the first request: the listing
  // cost no lookup per entry (READDIRPLUS_AUTO).
  CHECK(requests_ok(port, "readdir") > plain_before);
  CHECK(seen.size() == kFiles + 1);
  for (const auto& [name, types] : seen) {
    INFO(name);
    CHECK(types.size() == 1);
    CHECK((types[0] == DT_REG || types[0] == DT_UNKNOWN));
  }
  CHECK(seen.count("pipe") == 1);
  CHECK(seen.count("mnt") == 0);
  CHECK(seen.count("bound") == 0);

  // Every name listed is there with the attributes a lookup gives.
  int files = 0;
  for (const auto& [name, types] : seen) {
    const struct stat st = lstat_of(view + "/" + name);
    INFO(name << ": " << describe(st));
    CHECK(S_ISREG(st.st_mode));
    CHECK(st.st_size == 0);
    CHECK(st.st_uid == ann.uid);
    files += S_ISREG(st.st_mode) ? 1 : 0;
  }
  CHECK(files == kFiles + 1);
  CHECK_FALSE(exists(view + "/mnt"));
  CHECK_FALSE(exists(view + "/bound"));

  // Listed again right after those lookups: the kernel asks for attributes
  // with the names now, and the entries are the same.
  const long plus_before = requests_ok(port, "readdirplus");
  CHECK(list_names(view) == seen);
  CHECK(requests_ok(port, "readdirplus") > plus_before);
}
