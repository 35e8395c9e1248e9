// `gateway check` run as a real process on the seed's example and
// variations of its folders: the trees, stored owners and warnings.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "cli_support.hpp"
#include "scenario.hpp"
#include "support/catch.hpp"

using gw::test::Env;
using gw::test::RunResult;
using gw::test::SeedLayout;
using gw::test::row;
using gw::test::user_section;
using gw::test::warnings;
using Words = std::vector<std::string>;

namespace {

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
  for (const std::string& line : lines) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}


// A mount made for one test case, detached when it ends (before the temp
// folders holding it are removed).
class BindMount {
 public:
  BindMount(const std::string& from, const std::string& to) : to_(to) {
    REQUIRE(::mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) == 0);
  }
  ~BindMount() { ::umount2(to_.c_str(), MNT_DETACH); }
  BindMount(const BindMount&) = delete;
  BindMount& operator=(const BindMount&) = delete;

 private:
  std::string to_;
};

}  // namespace

TEST_CASE("check prints the seed example's trees with stored owners", "[cli][check]") {
  const SeedLayout seed;
  const RunResult r = seed.check_seed();
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());

  const std::string ryan = user_section(r.out, "ryan");
  CHECK_THAT(ryan, Catch::StartsWith("user ryan (uid 54321, gid 54321)\n"));
  CHECK(row(ryan, "data/") == Words{"data/", "root", "0:0", "0:0", "(synthetic)", "0755", "-", "-", "-"});
  CHECK(row(ryan, "data/ryan-chroot/") ==
        Words{"data/ryan-chroot/", "root", "0:54321", "0:54321", "(synthetic)", "0750", "-", "-", "-"});
  CHECK(row(ryan, "data/ryan-chroot/ryan/") ==
        Words{"data/ryan-chroot/ryan/", "ryan", "54321:54321", "54321:54321", "(user)", "missing", "0022", "rw", seed.data + "/ryan"});
  CHECK(row(ryan, "data/ryan-chroot/ryan/web/") ==
        Words{"data/ryan-chroot/ryan/web/", "ryan", "54321:54321", "54321:54321", "(folder)", "0750", "0022", "rw",
              seed.volumes + "/thttpd_files"});

  const std::string gary = user_section(r.out, "gary");
  CHECK_THAT(gary, Catch::StartsWith("user gary (uid 1001, gid 1001)\n"));
  CHECK(row(gary, "data/gary-chroot/").at(5) == "0750");
  CHECK(row(gary, "data/gary-chroot/gary/music/") ==
        Words{"data/gary-chroot/gary/music/", "gary", "1001:1001", "1001:1001", "(folder)", "0775", "0022", "rw",
              seed.volumes + "/music_stuff"});
  // Each user sees only their own tree.
  CHECK(row(ryan, "data/gary-chroot/").empty());
  CHECK(row(gary, "data/ryan-chroot/ryan/web/").empty());

  const auto w = warnings(r.out);
  CHECK(w.size() == 2);
  CHECK(any_contains(w, "data/ryan-chroot/ryan/: home folder " + seed.data + "/ryan is missing; serve will create it"));
  CHECK(any_contains(w, "data/gary-chroot/gary/: home folder"));
  CHECK_THAT(r.out, Catch::EndsWith("ok: 2 users, 2 mounts, 2 warnings\n"));
  // check writes nothing: the missing homes are still missing.
  CHECK(!std::filesystem::exists(seed.data + "/ryan"));
}

TEST_CASE("a volume keeps its owner whatever uid the sftp user has", "[cli][check]") {
  const SeedLayout seed;
  gw::test::make_dir(seed.data + "/gary", 0700, 1001, 1001);
  const RunResult r = seed.check({{"SFTP_USERS", "gary:1001"}, {"SFTP_VOLUMES", "thttpd_files:gary:site"}});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  const std::string gary = user_section(r.out, "gary");
  CHECK(row(gary, "data/gary-chroot/gary/site/") ==
        Words{"data/gary-chroot/gary/site/", "gary", "1001:1001", "54321:54321", "(folder)", "0750", "0022", "rw",
              seed.volumes + "/thttpd_files"});
  CHECK(row(gary, "data/gary-chroot/gary/").at(5) == "0700");  // the existing home's real mode
  CHECK(warnings(r.out).empty());
}

TEST_CASE("a writable root-owned volume without owner= is refused as serve refuses it", "[cli][check]") {
  const SeedLayout seed;
  gw::test::make_dir(seed.volumes + "/rootvol", 0755, 0, 0);
  const RunResult without = seed.check({{"SFTP_USERS", "ryan:54321"}, {"SFTP_VOLUMES", "rootvol:ryan:r"}});
  INFO(without.out << without.err);
  CHECK(without.code == 3);
  CHECK(without.out.empty());
  CHECK(without.err == "ryan:r: " + seed.volumes +
                           "/rootvol is owned by root; files would be stored as root: add owner=UID:GID to the rule\n");

  const RunResult with = seed.check({{"SFTP_USERS", "ryan:54321"}, {"SFTP_VOLUMES", "rootvol:ryan:r:owner=33:33"}});
  INFO(with.out << with.err);
  CHECK(with.code == 0);
  CHECK(!any_contains(warnings(with.out), "add owner="));
  CHECK(row(user_section(with.out, "ryan"), "data/ryan-chroot/ryan/r/").at(3) == "33:33");
  CHECK(any_contains(warnings(with.out), "the rule says owner=33:33 but " + seed.volumes + "/rootvol is owned by uid 0"));
}

TEST_CASE("a read-only root-owned volume is served, read as nobody", "[cli][check]") {
  const SeedLayout seed;
  gw::test::make_dir(seed.volumes + "/rootvol", 0755, 0, 0);
  const RunResult r = seed.check({{"SFTP_USERS", "ryan:54321"}, {"SFTP_VOLUMES", "rootvol:ryan:r:ro"}});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(row(user_section(r.out, "ryan"), "data/ryan-chroot/ryan/r/") ==
        Words{"data/ryan-chroot/ryan/r/", "ryan", "54321:54321", "65534:65534", "(nobody)", "0755", "0022", "ro",
              seed.volumes + "/rootvol"});
  CHECK(!any_contains(warnings(r.out), "rootvol"));
}

TEST_CASE("check shows owner= and the rule's options", "[cli][check]") {
  const SeedLayout seed;
  const RunResult r = seed.check({{"SFTP_USERS", "ryan:54321"},
                                  {"SFTP_VOLUMES", "thttpd_files:ryan:web:ro:owner=54321:54321:symlinks"}});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  const Words web = row(user_section(r.out, "ryan"), "data/ryan-chroot/ryan/web/");
  REQUIRE(web.size() == 9);
  CHECK(web[3] == "54321:54321");
  CHECK(web[4] == "(owner=)");
  CHECK(web[7] == "ro,owner=54321:54321,symlinks");
  CHECK(!any_contains(warnings(r.out), "web/"));  // the owner matches the folder's
}

TEST_CASE("a missing, non-directory or symlinked folder is refused with exit 3, as serve refuses it", "[cli][check]") {
  const SeedLayout seed;
  gw::test::write_file(seed.volumes + "/afile", "not a folder\n");
  std::filesystem::create_directory_symlink(seed.volumes + "/thttpd_files", seed.volumes + "/linked");
  gw::test::make_dir(seed.volumes + "/thttpd_files/site", 0755, 54321, 54321);
  std::filesystem::create_directory_symlink(seed.volumes + "/thttpd_files/site", seed.volumes + "/thttpd_files/via");
  const RunResult r = seed.check(
      {{"SFTP_USERS", "ryan:54321"},
       {"SFTP_VOLUMES", "nosuch:ryan:gone,afile:ryan:file,linked:ryan:link,thttpd_files/via/x:ryan:via,thttpd_files:ryan:ok"}});
  INFO(r.out << r.err);
  CHECK(r.code == 3);
  CHECK(r.out.empty());
  const std::string v = seed.volumes;
  CHECK(gw::test::lines(r.err) == std::vector<std::string>{
                                      "ryan:gone: cannot open " + v + "/nosuch: No such file or directory",
                                      "ryan:file: cannot open " + v + "/afile: Not a directory",
                                      "ryan:link: cannot open " + v + "/linked: Not a directory",
                                      "ryan:via: cannot open " + v + "/thttpd_files/via/x: Too many levels of symbolic links",
                                  });
}

TEST_CASE("check warns about a home on another filesystem and refuses a subdir there", "[cli][check]") {
  const SeedLayout seed;
  struct stat tmp {}, shm {};
  // /dev/shm is a tmpfs on every Debian system; skip only where it is not.
  if (::stat(seed.volumes.c_str(), &tmp) != 0 || ::stat("/dev/shm", &shm) != 0 || tmp.st_dev == shm.st_dev) return;
  const gw::test::TempDir elsewhere("/dev/shm");
  gw::test::make_dir(elsewhere / "home", 0750, 54321, 54321);
  gw::test::make_dir(elsewhere / "vol", 0755, 54321, 54321);
  gw::test::make_dir(seed.data + "/ryan", 0750, 54321, 54321);
  gw::test::make_dir(seed.volumes + "/mounted", 0755, 54321, 54321);
  gw::test::make_dir(seed.volumes + "/plain/sub", 0755, 54321, 54321);
  // A home that is a stray mount, a volume that is its own filesystem (what
  // Docker gives every volume) and a folder inside a volume that is a mount.
  const BindMount home(elsewhere / "home", seed.data + "/ryan");
  const BindMount volume(elsewhere / "vol", seed.volumes + "/mounted");
  const BindMount inside(elsewhere / "vol", seed.volumes + "/plain/sub");
  const RunResult served = seed.check({{"SFTP_USERS", "ryan:54321"}, {"SFTP_VOLUMES", "mounted:ryan:m"}});
  INFO(served.out << served.err);
  REQUIRE(served.code == 0);
  CHECK(any_contains(warnings(served.out), seed.data + "/ryan is on another filesystem than " + seed.data));
  CHECK_FALSE(any_contains(warnings(served.out), seed.volumes + "/mounted is on another filesystem"));
  // The view never enters another filesystem below a volume: serve refuses.
  const RunResult refused = seed.check({{"SFTP_USERS", "ryan:54321"}, {"SFTP_VOLUMES", "plain/sub:ryan:s"}});
  INFO(refused.err);
  CHECK(refused.code == 3);
  CHECK(refused.err == "ryan:s: cannot open " + seed.volumes + "/plain/sub: Invalid cross-device link\n");
}

TEST_CASE("check warns when several users may write one folder", "[cli][check]") {
  const SeedLayout seed;
  const std::pair<std::string, std::string> users{"SFTP_USERS", "ryan:54321,gary:1001"};
  const RunResult shared = seed.check({users, {"SFTP_VOLUMES", "thttpd_files:ryan:web,thttpd_files:gary:site"}});
  INFO(shared.out << shared.err);
  CHECK(shared.code == 0);
  CHECK(any_contains(warnings(shared.out), "volume thttpd_files: mapped read-write to several users (ryan, gary)"));

  const RunResult read_only = seed.check({users, {"SFTP_VOLUMES", "thttpd_files:ryan:web,thttpd_files:gary:site:ro"}});
  CHECK(!any_contains(warnings(read_only.out), "several users"));

  gw::test::make_dir(seed.volumes + "/thttpd_files/a", 0755, 54321, 54321);
  gw::test::make_dir(seed.volumes + "/thttpd_files/b", 0755, 54321, 54321);
  const RunResult apart = seed.check({users, {"SFTP_VOLUMES", "thttpd_files/a:ryan:a,thttpd_files/b:gary:b"}});
  CHECK(!any_contains(warnings(apart.out), "several users"));
  const RunResult nested = seed.check({users, {"SFTP_VOLUMES", "thttpd_files:ryan:all,thttpd_files/b:gary:b"}});
  CHECK(any_contains(warnings(nested.out), "several users (ryan, gary)"));
}

namespace {

// The lines of the limits table, without its heading and header row.
std::vector<std::string> limit_rows(const std::string& out) {
  std::vector<std::string> rows;
  bool inside = false;
  for (const std::string& line : gw::test::lines(out)) {
    if (line == "limits (usage counted now)") inside = true;
    else if (inside && line.empty()) break;
    else if (inside && line.rfind("  FOLDER ", 0) != 0) rows.push_back(line);
  }
  return rows;
}

std::string squeezed(const std::string& line) {
  std::string out;
  for (const std::string& word : gw::test::words(line)) out += (out.empty() ? "" : " ") + word;
  return out;
}

}  // namespace

TEST_CASE("check shows each limited folder, its mappings and what it holds now", "[cli][check]") {
  const SeedLayout seed;
  const std::string site = seed.volumes + "/thttpd_files";
  gw::test::write_file(site + "/a", std::string(1000, 'a'));
  gw::test::make_dir(site + "/sub", 0755, 54321, 54321);
  gw::test::write_file(site + "/sub/b", std::string(2048, 'b'));
  REQUIRE(::link((site + "/a").c_str(), (site + "/sub/hard").c_str()) == 0);  // counted once
  REQUIRE(::symlink("a", (site + "/link").c_str()) == 0);                    // 1 byte, never followed
  const RunResult r = seed.check({{"SFTP_USERS", "ryan:54321:quota=1G,gary:1001"},
                                  {"SFTP_VOLUMES", "thttpd_files:ryan:web:quota=5G:files=100:umask=0027,"
                                                   "thttpd_files/:gary:site,music_stuff:gary:music"}},
                                 {"--home-files", "50", "--umask", "0002"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  std::vector<std::string> rows;
  for (const std::string& line : limit_rows(r.out)) rows.push_back(squeezed(line));
  CHECK(rows == std::vector<std::string>{
                    "~ryan 0 of 1G (0%) 0 of 50 (0%) ryan:~",
                    "thttpd_files 2.9K of 5G (0%) 4 of 100 (4%) ryan:web,gary:site",  // 1000 + 2048 + 1 bytes
                    "~gary 0 0 of 50 (0%) gary:~",
                });
  // The umask each home and mapping gives new files: the rule's, else --umask.
  CHECK(row(user_section(r.out, "ryan"), "data/ryan-chroot/ryan/").at(6) == "0002");
  CHECK(row(user_section(r.out, "ryan"), "data/ryan-chroot/ryan/web/").at(6) == "0027");
  CHECK(row(user_section(r.out, "gary"), "data/gary-chroot/gary/site/").at(6) == "0002");
  CHECK(row(user_section(r.out, "gary"), "data/gary-chroot/").at(6) == "-");
  // Without limits there is no table.
  const RunResult none = seed.check_seed();
  CHECK(none.code == 0);
  CHECK(none.out.find("limits") == std::string::npos);
}
