// Events through a real mount: the view is served by this process (fs::View
// built from a plan, fs::Session on a thread of ours), with an EventLog that
// keeps what it is handed, so a sequence of real file operations through the
// kernel can be compared with exactly the events it must give, in order.
// (The other mount tests run the gateway binary; an EventLog is only
// reachable in-process. Delivery through the spool: tests/e2e.)
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fs/event.hpp"
#include "fs/layout.hpp"
#include "fs/session.hpp"
#include "fs/view.hpp"
#include "mapping/parse.hpp"
#include "mapping/plan.hpp"
#include "mount/files.hpp"
#include "support/catch.hpp"
#include "support/prerequisite.hpp"

using namespace gw;
using namespace gw::mount_test;

namespace {

constexpr uid_t kAnn = 61000;
constexpr uid_t kVolumeOwner = 54321;

// Keeps every event, as the spool would write it but without id and time.
class KeptEvents : public fs::EventLog {
 public:
  void record(const fs::Event& event) noexcept override {
    try {
      std::string line = fs::event_json(event, "-", "-");
      for (const std::string_view drop : {R"("id":"-",)", R"("time":"-",)"}) line.erase(line.find(drop), drop.size());
      std::lock_guard lock(mu_);
      lines_.push_back(std::move(line));
    } catch (...) {
    }
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }
  // The lines once there are `count` of them: a handle's release, which
  // reports a noatomic upload, reaches the view after close() returned.
  std::vector<std::string> settled(std::size_t count) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (lines().size() < count && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // and nothing more arrives
    return lines();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// A view of `plan` served by this process at `mountpoint` until destroyed.
class ServedHere {
 public:
  ServedHere(const mapping::Plan& plan, fs::EventLog* log, std::string mountpoint)
      : mountpoint_(std::move(mountpoint)), view_(kOptions) {
    view_.set_event_log(log);
    install(plan);
    session_.emplace(view_, mountpoint_);
    loop_ = std::thread([this] { session_->run(4, [] {}); });
  }
  // Detaching the mount ends the request loop (its reads get ENODEV).
  ~ServedHere() {
    ::umount2(mountpoint_.c_str(), MNT_DETACH);
    loop_.join();
  }
  ServedHere(const ServedHere&) = delete;
  ServedHere& operator=(const ServedHere&) = delete;

  fs::View& view() { return view_; }

  // What a reload does: build the new plan's layout and serve it.
  void install(const mapping::Plan& plan) {
    fs::LayoutResult built = fs::build_layout(plan, {}, view_);
    INFO((built.problems.empty() ? "" : built.problems.front()));
    REQUIRE(built.ok());
    view_.install(std::move(built.layout));
  }

 private:
  // No kernel cache of names: each path walk finds what the view serves
  // now, also right after a reload.
  static constexpr fs::ViewOptions kOptions{.cache_timeout = 0, .open_files_per_user = 64, .open_files_total = 256};

  std::string mountpoint_;
  fs::View view_;
  std::optional<fs::Session> session_;
  std::thread loop_;
};

mapping::Plan plan_of(const std::string& users, const std::string& rules, const TempTree& tree) {
  const mapping::Parsed parsed = mapping::parse(
      mapping::Input{mapping::split_list(users, "users"), mapping::split_list(rules, "rules")});
  INFO((parsed.ok() ? "" : parsed.problems.front().line()));
  REQUIRE(parsed.ok());
  return mapping::make_plan(parsed.model, mapping::Paths{tree / "data", tree / "volumes"});
}

// Writes `content` to `path` opened with `flags`; "ok" or the errno's name.
std::string put(const std::string& path, const std::string& content, int flags = O_WRONLY | O_CREAT | O_TRUNC) {
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return errno_name(errno);
  const ssize_t n = ::write(fd, content.data(), content.size());
  std::string result = n < 0 ? errno_name(errno) : "ok";
  if (::close(fd) != 0 && result == "ok") result = errno_name(errno);
  return result;
}

std::string done(int rc) { return rc == 0 ? "ok" : errno_name(errno); }

}  // namespace

TEST_CASE("real operations through the mount give exactly their events, in order", "[events]") {
  test::require_fuse();
  TempTree tree;
  TempTree mount_tree{kMountBase};
  make_dir(tree / "data", 0, 0, 0755);
  make_dir(tree / "volumes", 0, 0, 0755);
  for (const char* volume : {"web", "raw", "docs", "inbox"}) make_dir(tree / "volumes/" + volume, kVolumeOwner, kVolumeOwner, 0755);
  make_dir(tree / "volumes/web/site", kVolumeOwner, kVolumeOwner, 0755);
  write_file(tree / "volumes/docs/readme.txt", "read me", kVolumeOwner, kVolumeOwner);
  make_dir(mount_tree / "mnt", 0, 0, 0755);
  KeptEvents kept;
  const std::string users = "ann:" + std::to_string(kAnn);
  const std::string rules = "web/site:ann:web,raw:ann:raw:noatomic,docs:ann:docs:ro,inbox:ann:inbox";
  ServedHere served(plan_of(users, rules + ":events=upload", tree), &kept, mount_tree / "mnt");
  const std::string home = mount_tree / "mnt/data/ann-chroot/ann";
  const std::string web = home + "/web";
  const std::string at_web = R"({"kind":"%s","user":"ann","mapping":"ann:web","volume":"web",)";
  const auto web_event = [&](const std::string& kind, const std::string& rest) {
    std::string head = at_web;
    head.replace(head.find("%s"), 2, kind);
    return head + rest;
  };
  std::vector<std::string> want;

  // An atomic upload: published at the close, which returns after its event.
  REQUIRE(put(web + "/a.html", "hello") == "ok");
  want.push_back(web_event("upload", R"("path":"/ann/web/a.html","volume_path":"site/a.html","size":5,"replaced":false})"));
  CHECK(kept.lines() == want);
  // An overwrite replaces the file as a whole.
  REQUIRE(put(web + "/a.html", "bye", O_WRONLY | O_TRUNC) == "ok");
  want.push_back(web_event("upload", R"("path":"/ann/web/a.html","volume_path":"site/a.html","size":3,"replaced":true})"));
  CHECK(kept.lines() == want);
  // noatomic: reported when the handle that wrote is released; whether it
  // replaced a file is not known there.
  REQUIRE(put(home + "/raw/log.txt", "1234") == "ok");
  want.push_back(R"({"kind":"upload","user":"ann","mapping":"ann:raw","volume":"raw","path":"/ann/raw/log.txt",)"
                 R"("volume_path":"log.txt","size":4})");
  CHECK(kept.settled(want.size()) == want);
  // Reading, listing and looking are no events.
  CHECK(read_file(web + "/a.html") == "bye");
  CHECK(names_in(web) == std::vector<std::string>{"a.html"});
  REQUIRE(done(::mkdir((web + "/img").c_str(), 0755)) == "ok");
  want.push_back(web_event("mkdir", R"("path":"/ann/web/img","volume_path":"site/img"})"));
  REQUIRE(done(::rename((web + "/a.html").c_str(), (web + "/img/b.html").c_str())) == "ok");
  want.push_back(web_event("rename", R"("path":"/ann/web/a.html","volume_path":"site/a.html",)"
                                     R"("to":"/ann/web/img/b.html","to_volume_path":"site/img/b.html"})"));
  REQUIRE(done(::unlink((web + "/img/b.html").c_str())) == "ok");
  want.push_back(web_event("remove", R"("path":"/ann/web/img/b.html","volume_path":"site/img/b.html","type":"file"})"));
  REQUIRE(done(::rmdir((web + "/img").c_str())) == "ok");
  want.push_back(web_event("remove", R"("path":"/ann/web/img","volume_path":"site/img","type":"folder"})"));
  CHECK(kept.lines() == want);
  // A failed operation is no event; a refused one is a refusal.
  CHECK(done(::rmdir((web + "/img").c_str())) == "ENOENT");
  CHECK(put(home + "/docs/new.txt", "x") == "EROFS");
  want.push_back(R"({"kind":"refusal","user":"ann","mapping":"ann:docs","volume":"docs","path":"/ann/docs/new.txt",)"
                 R"("volume_path":"new.txt","op":"create","reason":"read-only mapping","error":"EROFS"})");
  CHECK(put(home + "/docs/readme.txt", "x", O_WRONLY) == "EROFS");
  want.push_back(R"({"kind":"refusal","user":"ann","mapping":"ann:docs","volume":"docs","path":"/ann/docs/readme.txt",)"
                 R"("volume_path":"readme.txt","op":"open-write","reason":"read-only mapping","error":"EROFS"})");
  CHECK(kept.lines() == want);
  // events=upload: of all this, only the upload.
  const std::string inbox = home + "/inbox";
  REQUIRE(done(::mkdir((inbox + "/d").c_str(), 0755)) == "ok");
  REQUIRE(put(inbox + "/d/f.csv", "a,b\n") == "ok");
  REQUIRE(done(::rename((inbox + "/d/f.csv").c_str(), (inbox + "/d/g.csv").c_str())) == "ok");
  REQUIRE(done(::unlink((inbox + "/d/g.csv").c_str())) == "ok");
  REQUIRE(done(::rmdir((inbox + "/d").c_str())) == "ok");
  want.push_back(R"({"kind":"upload","user":"ann","mapping":"ann:inbox","volume":"inbox","path":"/ann/inbox/d/f.csv",)"
                 R"("volume_path":"d/f.csv","size":4,"replaced":false})");
  CHECK(kept.lines() == want);
  // The home: no volume, paths relative to the home folder.
  REQUIRE(done(::mkdir((home + "/notes").c_str(), 0755)) == "ok");
  want.push_back(R"({"kind":"mkdir","user":"ann","mapping":"ann:~","volume":"","path":"/ann/notes","volume_path":"notes"})");
  CHECK(kept.settled(want.size()) == want);
  // A reload that changes events= applies it: the mapping is rebuilt.
  served.install(plan_of(users, rules + ":events=mkdir+refusal", tree));
  REQUIRE(put(inbox + "/f.csv", "a,b\n") == "ok");
  REQUIRE(done(::mkdir((inbox + "/e").c_str(), 0755)) == "ok");
  want.push_back(R"({"kind":"mkdir","user":"ann","mapping":"ann:inbox","volume":"inbox","path":"/ann/inbox/e",)"
                 R"("volume_path":"e"})");
  CHECK(kept.lines() == want);
  // Counted by kind: upload, remove, rename, mkdir, refusal.
  CHECK(served.view().metrics().snapshot().events == std::array<std::uint64_t, fs::kEventKinds>{4, 2, 1, 3, 2});
}
