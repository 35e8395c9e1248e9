// `check` and `serve` judge a configuration the same way: whatever serve
// refuses, check refuses with the same exit code and the same lines, and
// serve refuses it before it writes or mounts anything.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "cli_support.hpp"
#include "scenario.hpp"
#include "support/catch.hpp"
#include "support/prerequisite.hpp"

using gw::test::Env;
using gw::test::RunResult;
using gw::test::SeedLayout;
using gw::test::TempDir;
using gw::test::lines;

namespace {

// Where serve would put its view and state: below /run (root's, 0755), so
// the mountpoint's parents are what sshd accepts unless a case says not.
struct ServeFolders {
  TempDir run{"/run"};
  std::string mountpoint = run / "view";
  std::string state = run / "state";
};

struct Case {
  std::string what;
  Env env;
  std::vector<std::string> args;  // after the seed's --data-dir and --volumes-dir
  int code;
};

// The case's options over the seed's folders and `f` (a case may replace any).
std::vector<std::string> options(const SeedLayout& seed, const ServeFolders& f, const Case& c) {
  std::vector<std::string> args = c.args;
  for (const auto& [option, value] : {std::pair{"--data-dir", seed.data}, std::pair{"--volumes-dir", seed.volumes},
                                      std::pair{"--mountpoint", f.mountpoint}, std::pair{"--state-dir", f.state}})
    if (std::find(c.args.begin(), c.args.end(), option) == c.args.end()) args.insert(args.end(), {option, value});
  return args;
}

// serve bounded in time: a case it wrongly accepted would otherwise serve.
RunResult serve(const SeedLayout& seed, const ServeFolders& f, const Case& c) {
  std::vector<std::string> args{"20", gw::test::gateway_bin(), "serve"};
  for (std::string& a : options(seed, f, c)) args.push_back(std::move(a));
  return gw::test::run_program("/usr/bin/timeout", args, c.env);
}

RunResult check(const SeedLayout& seed, const ServeFolders& f, const Case& c) {
  std::vector<std::string> args{"check"};
  for (std::string& a : options(seed, f, c)) args.push_back(std::move(a));
  return gw::test::run_gateway(args, c.env);
}

}  // namespace

TEST_CASE("check refuses what serve refuses, with serve's exit code and lines", "[cli][check][serve]") {
  const SeedLayout seed;
  const ServeFolders f;
  const std::string v = seed.volumes;
  gw::test::make_dir(v + "/rootvol", 0755, 0, 0);
  std::filesystem::create_directory_symlink(v + "/thttpd_files", v + "/linked");
  gw::test::make_dir(v + "/thttpd_files/site", 0755, 54321, 54321);
  std::filesystem::create_directory_symlink(v + "/thttpd_files/site", v + "/thttpd_files/via");
  gw::test::write_file(seed.dir / "bad.conf", "users = ryan:54321\nthreads = 0\nport = many\n");
  const Env ryan{{"SFTP_USERS", "ryan:54321"}};
  const auto with_map = [&](const std::string& map) {
    Env env = ryan;
    env.emplace_back("SFTP_VOLUMES", map);
    return env;
  };
  const std::vector<Case> cases{
      {"a writable root-owned volume without owner=", with_map("rootvol:ryan:r"), {}, 3},
      {"a missing volume", with_map("nosuch:ryan:n"), {}, 3},
      {"a volume that is a symlink", with_map("linked:ryan:l"), {}, 3},
      {"a subdir through a symlink", with_map("thttpd_files/via/x:ryan:x"), {}, 3},
      {"no data dir to create homes in", ryan, {"--data-dir", seed.dir / "nodata"}, 3},
      {"a user with sshd's privilege separation uid", ryan, {"--sshd-uid", "54321"}, 2},
      {"a mountpoint below /tmp", ryan, {"--mountpoint", seed.dir / "view"}, 2},
      {"an unknown user", with_map("thttpd_files:gary:web"), {}, 2},
      {"bad option values", {}, {"--config", seed.dir / "bad.conf"}, 2},
      {"a rule's bad quota=", with_map("thttpd_files:ryan:web:quota=5X"), {}, 2},
      {"a rule's bad umask=", with_map("thttpd_files:ryan:web:umask=0999"), {}, 2},
      {"a rule's bad events=", with_map("thttpd_files:ryan:web:events=upload+delete"), {}, 2},
      {"a user's misspelt quota=", {{"SFTP_USERS", "ryan:54321:qouta=1G"}}, {}, 2},
      {"one folder limited two ways", with_map("thttpd_files:ryan:a:quota=1G,thttpd_files/:ryan:b:files=5"), {}, 2},
      {"bad quota options", ryan, {"--home-quota", "0", "--home-files", "many", "--umask", "0999", "--quota-rescan", "5d"}, 2},
      {"an event secret that cannot be read", ryan,
       {"--event-url", "http://127.0.0.1:9/hook", "--event-secret-file", seed.dir / "nosecret"}, 2},
      {"an empty event secret, a command that cannot run", ryan,
       {"--event-url", "https://hooks.example/x", "--event-secret-file", seed.dir / "empty", "--event-command",
        seed.dir / "bad.conf", "--event-command-user", "nosuchuser"}, 2},
  };
  gw::test::write_file(seed.dir / "empty", "\n");
  for (const Case& c : cases) {
    INFO(c.what);
    const RunResult checked = check(seed, f, c);
    const RunResult served = serve(seed, f, c);
    INFO("check:\n" << checked.err << "serve:\n" << served.err);
    CHECK(checked.code == c.code);
    CHECK(served.code == c.code);
    CHECK(checked.out.empty());
    REQUIRE_FALSE(checked.err.empty());
    // Every line check prints, serve prints too.
    const std::vector<std::string> serve_lines = lines(served.err);
    for (const std::string& line : lines(checked.err))
      CHECK(std::find(serve_lines.begin(), serve_lines.end(), line) != serve_lines.end());
    // And serve wrote and mounted nothing: no host keys, no view.
    CHECK_FALSE(std::filesystem::exists(f.state + "/host_keys"));
    CHECK_FALSE(std::filesystem::exists(f.mountpoint + "/data"));
    CHECK_FALSE(std::filesystem::exists(f.state + "/events"));
  }
}

TEST_CASE("bad limits, umasks and event kinds name their item, exit 2", "[cli][check]") {
  const SeedLayout seed;
  const RunResult rule = seed.check({{"SFTP_USERS", "ryan:54321:files=0"},
                                     {"SFTP_VOLUMES", "thttpd_files:ryan:web:quota=1G,thttpd_files:ryan:w2:quota=2G"}});
  CHECK(rule.code == 2);
  CHECK(rule.out.empty());
  CHECK(rule.err ==
        "SFTP_USERS item 1: 'ryan:54321:files=0': files 0 would refuse every new file; leave it out for no limit\n"
        "SFTP_VOLUMES item 2: 'thttpd_files:ryan:w2:quota=2G': folder thttpd_files is limited to quota=2G here but "
        "to quota=1G in SFTP_VOLUMES item 1; one folder has one limit: give the same quota= and files= in both, or "
        "leave them out of one\n");
  const RunResult events = seed.check({{"SFTP_USERS", "ryan:54321"}, {"SFTP_VOLUMES", "thttpd_files:ryan:web:events=uplaod"}});
  CHECK(events.code == 2);
  CHECK(events.out.empty());
  CHECK(events.err ==
        "SFTP_VOLUMES item 1: 'thttpd_files:ryan:web:events=uplaod': events 'uplaod' names an unknown kind 'uplaod' "
        "(did you mean 'upload'?); give kinds joined by '+' from upload, remove, rename, mkdir, refusal, or none\n");
  const RunResult option = seed.check(gw::test::seed_env, {"--umask", "8"});
  CHECK(option.code == 2);
  CHECK(option.err ==
        "gateway: --umask: umask '8' is not a umask; give 3 or 4 octal digits from 000 to 0777, e.g. 0027\n");
}

TEST_CASE("a mountpoint sshd would refuse is a problem naming the folder", "[cli][check]") {
  const SeedLayout seed;
  const Env ryan{{"SFTP_USERS", "ryan:54321"}};
  const RunResult tmp = seed.check(ryan, {"--mountpoint", seed.dir / "view"});
  INFO(tmp.err);
  CHECK(tmp.code == 2);
  CHECK(tmp.err == "mountpoint: '" + seed.dir / "view" +
                       "': sshd refuses to chroot below /tmp: its mode 1777 lets group or others write; every folder "
                       "above the view must be owned by root and writable by root only (mount the view elsewhere, "
                       "e.g. under /run)\n");
  const TempDir run("/run");
  gw::test::make_dir(run / "theirs", 0755, 1001, 1001);
  const RunResult theirs = seed.check(ryan, {"--mountpoint", run / "theirs/view"});
  CHECK(theirs.code == 2);
  CHECK_THAT(theirs.err, Catch::Contains("below " + run / "theirs" + ": it is owned by uid 1001, not root"));
  CHECK(seed.check(ryan, {"--mountpoint", run / "view"}).code == 0);
  // sshd must be given an absolute ChrootDirectory.
  const RunResult relative = seed.check(ryan, {"--mountpoint", "view"});
  CHECK(relative.code == 2);
  CHECK_THAT(relative.err, Catch::StartsWith("mountpoint: 'view': not an absolute path"));
}

TEST_CASE("where sshd sees the view elsewhere, check says it cannot inspect it", "[cli][check]") {
  // The gateway in one container, sshd in another: sshd's filesystem is out
  // of reach, so its parents are not judged here, and check says so.
  const SeedLayout seed;
  const Env ryan{{"SFTP_USERS", "ryan:54321"}};
  const RunResult r = seed.check(ryan, {"--mountpoint", seed.dir / "view", "--sshd-view", "/srv/view"});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("warning: sshd-view: sshd sees the view at /srv/view, which this gateway cannot "
                                    "inspect"));
  // The same path (the compose stack: both containers mount one host folder
  // at /srv) and host mode (sshd beside the gateway) are judged here.
  CHECK(seed.check(ryan, {"--mountpoint", seed.dir / "view", "--sshd-view", seed.dir / "view/"}).code == 2);
  const RunResult host = seed.check(ryan, {"--mountpoint", "/run/x/view", "--sshd-view", seed.dir / "view", "--run-sshd"});
  CHECK(host.code == 2);
  CHECK_THAT(host.err, Catch::StartsWith("sshd-view: '" + seed.dir / "view" + "': sshd refuses to chroot below /tmp"));
}
