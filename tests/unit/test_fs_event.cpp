// Events without a mount: the JSON line of each kind (keys, order, what is
// left out, quoting), where an object is inside its volume (volume_path),
// and what the view reports to its EventLog: only with a log, only the
// kinds the mapping reports, only inside mappings, counted by kind.
#include <array>
#include <cerrno>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fs/event.hpp"
#include "fs/view.hpp"
#include "fs/view_events.hpp"
#include "support/catch.hpp"

using namespace gw::fs;

namespace {

constexpr const char* kId = "0123456789abcdef-7";
constexpr const char* kTime = "2026-12-05T13:00:00.123Z";
const Caller ryan{54321, 54321, 42};

Event base(EventKind kind, std::string path, std::string volume_path) {
  Event e;
  e.kind = kind;
  e.user = "ryan";
  e.mapping = "ryan:web";
  e.volume = "thttpd_files";
  e.path = std::move(path);
  e.volume_path = std::move(volume_path);
  return e;
}

const std::string kHead = R"({"id":"0123456789abcdef-7","kind":")";

// A mapping root as the layout makes one: `volume`/`folder` mapped at
// `view_path` in ryan's view (a home: no volume, the view path "/ryan").
InodePtr mapping_root(const std::string& label, const std::string& volume, const std::string& folder,
                      const std::string& view_path, EventKinds events = kAllEventKinds, bool read_only = false) {
  auto m = std::make_shared<MappingRoot>();
  m->id = std::hash<std::string>{}(label);
  m->label = label;
  m->user = {"ryan", 54321, 54321};
  m->stored = {54322, 54322};
  m->read_only = read_only;
  m->volume = volume;
  m->volume_folder = folder;
  m->view_path = view_path;
  m->events = events;
  auto node = std::make_shared<Inode>();
  node->id = 7;
  node->mapping = std::move(m);
  node->type = S_IFDIR;
  node->is_root = true;
  node->set_place(nullptr, view_path);
  return node;
}

InodePtr child(const InodePtr& parent, const std::string& name, mode_t type = S_IFDIR) {
  auto node = std::make_shared<Inode>();
  node->id = parent->id + 1;
  node->mapping = parent->mapping;
  node->type = type;
  node->set_place(parent, name);
  return node;
}

// An EventLog keeping each event's line.
struct Recorded : EventLog {
  std::vector<std::string> lines;
  void record(const Event& event) noexcept override { lines.push_back(event_json(event, kId, kTime)); }
};

}  // namespace

TEST_CASE("an event's JSON: id, kind, time, the common facts, then the kind's, in a fixed order", "[fs][events]") {
  SECTION("upload") {
    Event e = base(EventKind::upload, "/ryan/web/site/a.html", "site/a.html");
    e.size = 1234;
    e.replaced = false;
    CHECK(event_json(e, kId, kTime) ==
          kHead + R"(upload","time":"2026-12-05T13:00:00.123Z","user":"ryan","mapping":"ryan:web",)"
                  R"("volume":"thttpd_files","path":"/ryan/web/site/a.html","volume_path":"site/a.html",)"
                  R"("size":1234,"replaced":false})");
    e.replaced = true;
    CHECK(event_json(e, kId, kTime).ends_with(R"("size":1234,"replaced":true})"));
    e.replaced.reset();  // a released handle's: not known
    CHECK(event_json(e, kId, kTime).ends_with(R"("volume_path":"site/a.html","size":1234})"));
    e.size = 0;  // an empty file is 0 bytes, not no size
    CHECK(event_json(e, kId, kTime).ends_with(R"("size":0})"));
  }
  SECTION("rename") {
    Event e = base(EventKind::rename, "/ryan/web/a.html", "site/a.html");
    e.to = "/ryan/web/b.html";
    e.to_volume_path = "site/b.html";
    CHECK(event_json(e, kId, kTime) ==
          kHead + R"(rename","time":"2026-12-05T13:00:00.123Z","user":"ryan","mapping":"ryan:web",)"
                  R"("volume":"thttpd_files","path":"/ryan/web/a.html","volume_path":"site/a.html",)"
                  R"("to":"/ryan/web/b.html","to_volume_path":"site/b.html"})");
  }
  SECTION("remove") {
    Event e = base(EventKind::remove, "/ryan/web/old", "old");
    e.type = "folder";
    CHECK(event_json(e, kId, kTime) ==
          kHead + R"(remove","time":"2026-12-05T13:00:00.123Z","user":"ryan","mapping":"ryan:web",)"
                  R"("volume":"thttpd_files","path":"/ryan/web/old","volume_path":"old","type":"folder"})");
  }
  SECTION("mkdir: nothing beyond the common facts") {
    CHECK(event_json(base(EventKind::mkdir, "/ryan/web/new", "new"), kId, kTime) ==
          kHead + R"(mkdir","time":"2026-12-05T13:00:00.123Z","user":"ryan","mapping":"ryan:web",)"
                  R"("volume":"thttpd_files","path":"/ryan/web/new","volume_path":"new"})");
  }
  SECTION("refusal: the op, the reason and the errno's name") {
    Event e = base(EventKind::refusal, "/ryan/web/big.bin", "big.bin");
    e.op = "write";
    e.reason = "quota";
    e.err = EDQUOT;
    CHECK(event_json(e, kId, kTime) ==
          kHead + R"(refusal","time":"2026-12-05T13:00:00.123Z","user":"ryan","mapping":"ryan:web",)"
                  R"("volume":"thttpd_files","path":"/ryan/web/big.bin","volume_path":"big.bin",)"
                  R"("op":"write","reason":"quota","error":"EDQUOT"})");
    e.err = EROFS;
    CHECK(event_json(e, kId, kTime).ends_with(R"("error":"EROFS"})"));
  }
  SECTION("a home's event: the volume and the home folder's own volume_path are \"\", not left out") {
    Event e = base(EventKind::mkdir, "/ryan", "");
    e.mapping = "ryan:~";
    e.volume = "";
    CHECK(event_json(e, kId, kTime) ==
          kHead + R"(mkdir","time":"2026-12-05T13:00:00.123Z","user":"ryan","mapping":"ryan:~",)"
                  R"("volume":"","path":"/ryan","volume_path":""})");
  }
}

TEST_CASE("an event's names are quoted the one way: no odd name ends the line or forges a key", "[fs][events]") {
  Event e = base(EventKind::rename, "/ryan/web/a\"b\\c\nd\te\x01.txt", "a\"b\\c\nd\te\x01.txt");
  e.to = "/ryan/web/\xff\xfe caf\xc3\xa9\",\"kind\":\"x";
  e.to_volume_path = "\xff\xfe caf\xc3\xa9\",\"kind\":\"x";
  const std::string line = event_json(e, kId, kTime);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find(R"("path":"/ryan/web/a\"b\\c\nd\te\u0001.txt")") != std::string::npos);
  CHECK(line.find(R"("to":"/ryan/web/\ufffd\ufffd café\",\"kind\":\"x")") != std::string::npos);
  CHECK(line.find(R"("to_volume_path":"\ufffd\ufffd café\",\"kind\":\"x"})") != std::string::npos);
}

TEST_CASE("volume_path: the rule's subdir joined with the path below the mapped folder", "[fs][events]") {
  const InodePtr web = mapping_root("ryan:web", "thttpd_files", "site/public", "/ryan/web");
  const MappingRoot& m = *web->mapping;
  CHECK(volume_path_of(m, "/ryan/web/a.html") == "site/public/a.html");
  CHECK(volume_path_of(m, "/ryan/web/img/logo.png") == "site/public/img/logo.png");
  CHECK(volume_path_of(m, "/ryan/web") == "site/public");
  const InodePtr root_of_volume = mapping_root("ryan:all", "thttpd_files", "", "/ryan/all");
  CHECK(volume_path_of(*root_of_volume->mapping, "/ryan/all/img/logo.png") == "img/logo.png");
  CHECK(volume_path_of(*root_of_volume->mapping, "/ryan/all") == "");
  SECTION("a home: relative to the home folder, <data_dir>/<user>") {
    const InodePtr home = mapping_root("ryan:~", "", "", "/ryan");
    CHECK(volume_path_of(*home->mapping, "/ryan/notes.txt") == "notes.txt");
    CHECK(volume_path_of(*home->mapping, "/ryan/a/b") == "a/b");
    CHECK(volume_path_of(*home->mapping, "/ryan") == "");
  }
  SECTION("the common facts, from a path") {
    const Event e = event_in(m, EventKind::upload, "/ryan/web/img/logo.png");
    CHECK(e.user == "ryan");
    CHECK(e.mapping == "ryan:web");
    CHECK(e.volume == "thttpd_files");
    CHECK(e.path == "/ryan/web/img/logo.png");
    CHECK(e.volume_path == "site/public/img/logo.png");
  }
}

TEST_CASE("the view reports events only to a log, of the kinds the mapping reports, inside mappings",
          "[fs][events]") {
  View view(ViewOptions{});
  Recorded log;
  const InodePtr web = mapping_root("ryan:web", "thttpd_files", "site", "/ryan/web");
  const InodePtr img = child(web, "img");
  SECTION("without a log: nothing, and nothing counted") {
    REQUIRE(view.event_log() == nullptr);
    view.events().folder_made(*img, "new");
    view.events().removed(*img, "old", Op::unlink);
    CHECK(view.policy().refuse(*img, Op::create, ryan, EROFS, "read-only mapping", "x").refused);
    CHECK(log.lines.empty());
    CHECK(view.metrics().snapshot().events == std::array<std::uint64_t, kEventKinds>{});
  }
  SECTION("with a log: each moment's event, counted by kind") {
    view.set_event_log(&log);
    CHECK(view.event_log() == &log);
    view.events().folder_made(*img, "new");
    view.events().removed(*img, "old.txt", Op::unlink);
    view.events().removed(*web, "img", Op::rmdir);
    view.events().renamed(*img, "a", *web, "/ryan/web/b");
    view.events().upload_published(*web->mapping, "/ryan/web/img/a.bin", 5, true);
    CHECK(view.policy().refuse(*img, Op::create, ryan, EROFS, "read-only mapping", "x").refused);
    CHECK(view.policy().refuse(*img, Op::setattr, ryan, EPERM, "chown/chgrp to anyone but the user").refused);
    const std::string common = R"(,"time":"2026-12-05T13:00:00.123Z","user":"ryan","mapping":"ryan:web","volume":"thttpd_files",)";
    CHECK(log.lines == std::vector<std::string>{
                           kHead + "mkdir\"" + common + R"("path":"/ryan/web/img/new","volume_path":"site/img/new"})",
                           kHead + "remove\"" + common +
                               R"("path":"/ryan/web/img/old.txt","volume_path":"site/img/old.txt","type":"file"})",
                           kHead + "remove\"" + common + R"("path":"/ryan/web/img","volume_path":"site/img","type":"folder"})",
                           kHead + "rename\"" + common +
                               R"("path":"/ryan/web/img/a","volume_path":"site/img/a","to":"/ryan/web/b","to_volume_path":"site/b"})",
                           kHead + "upload\"" + common +
                               R"("path":"/ryan/web/img/a.bin","volume_path":"site/img/a.bin","size":5,"replaced":true})",
                           kHead + "refusal\"" + common +
                               R"("path":"/ryan/web/img/x","volume_path":"site/img/x","op":"create","reason":"read-only mapping","error":"EROFS"})",
                           kHead + "refusal\"" + common +
                               R"("path":"/ryan/web/img","volume_path":"site/img","op":"setattr","reason":"chown/chgrp to anyone but the user","error":"EPERM"})",
                       });
    const auto counted = view.metrics().snapshot().events;
    CHECK(counted == std::array<std::uint64_t, kEventKinds>{1, 2, 1, 1, 2});
  }
  SECTION("only the kinds the mapping reports (events=)") {
    view.set_event_log(&log);
    const InodePtr uploads_only = mapping_root("ryan:in", "inbox", "", "/ryan/in", bit(EventKind::upload));
    view.events().folder_made(*uploads_only, "new");
    view.events().removed(*uploads_only, "x", Op::unlink);
    view.events().renamed(*uploads_only, "a", *uploads_only, "/ryan/in/b");
    CHECK(view.policy().refuse(*uploads_only, Op::create, ryan, EROFS, "read-only mapping", "x").refused);
    CHECK(log.lines.empty());
    view.events().upload_published(*uploads_only->mapping, "/ryan/in/a", 1, false);
    CHECK(log.lines.size() == 1);
    const InodePtr none = mapping_root("ryan:quiet", "quiet", "", "/ryan/quiet", 0);
    view.events().upload_published(*none->mapping, "/ryan/quiet/a", 1, false);
    CHECK(log.lines.size() == 1);
  }
  SECTION("the view's own tree has no mapping: its refusals are no event") {
    view.set_event_log(&log);
    auto data = std::make_shared<Inode>();
    data->id = 2;
    data->synthetic = std::make_shared<Synthetic>();
    CHECK(view.policy().refuse(*data, Op::mkdir, ryan, EROFS, "the view's own directories and config are read-only",
                               "x").refused);
    CHECK(log.lines.empty());
  }
}
