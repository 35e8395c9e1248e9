// The reloader's file watch on a real inotify: what makes it reload (an
// editor's save of the config file, a Kubernetes ConfigMap volume's ..data
// swap, any change in a watched folder) and what must not (other files next
// to the config file).
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "cli/cli_support.hpp"
#include "gateway/serve/reloader.hpp"
#include "support/catch.hpp"
#include "support/projected_volume.hpp"

using gw::gateway::Reloader;
using gw::test::ProjectedVolume;
using gw::test::TempDir;
using namespace std::chrono_literals;

namespace {

// Reloads counted; waits up to `within` for the count to reach `n`.
struct Counted {
  std::atomic<int> reloads{0};
  bool reaches(int n, std::chrono::milliseconds within = 2000ms) const {
    for (auto deadline = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < deadline;) {
      if (reloads.load() >= n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return reloads.load() >= n;
  }
};

}  // namespace

TEST_CASE("reloader: a ConfigMap volume's ..data swap reloads the config file linked through it", "[unit][reloader]") {
  const TempDir dir;
  ProjectedVolume volume(dir / "config");
  volume.publish({{"gateway.conf", "users = ryan:1000\n"}, {"other", "x"}});
  Counted c;
  Reloader reloader([&c] { ++c.reloads; }, {(volume.path() / "gateway.conf").string()});
  reloader.start();
  volume.publish({{"gateway.conf", "users = ryan:1000,gary:1001\n"}, {"other", "x"}});
  CHECK(c.reaches(1));
  reloader.stop();
}

TEST_CASE("reloader: the config file replaced by rename reloads; its neighbours do not", "[unit][reloader]") {
  const TempDir dir;
  gw::test::write_file(dir / "gateway.conf", "users = ryan:1000\n");
  Counted c;
  Reloader reloader([&c] { ++c.reloads; }, {dir / "gateway.conf"});
  reloader.start();
  gw::test::write_file(dir / "notes.txt", "unrelated\n");
  gw::test::write_file(dir / "gateway.conf.swp", "editor\n");
  std::this_thread::sleep_for(300ms);  // well past the reloader's 50 ms settling
  CHECK(c.reloads.load() == 0);
  gw::test::write_file(dir / "gateway.conf.new", "users = gary:1001\n");
  std::filesystem::rename(dir / "gateway.conf.new", dir / "gateway.conf");
  CHECK(c.reaches(1));
  reloader.stop();
}

TEST_CASE("reloader: a watched folder (--authorized-keys-dir) reloads on its swap", "[unit][reloader]") {
  const TempDir dir;
  ProjectedVolume keys(dir / "keys");
  keys.publish({{"ryan", "ssh-ed25519 AAAA\n"}});
  Counted c;
  Reloader reloader([&c] { ++c.reloads; }, {keys.path().string()});
  reloader.start();
  keys.publish({{"ryan", "ssh-ed25519 AAAA\n"}, {"gary", "ssh-ed25519 BBBB\n"}});
  CHECK(c.reaches(1));
  reloader.stop();
}
