// Events without a mount: the JSON line of each kind (keys, order, what is
// left out, quoting).
#include <cerrno>
#include <string>
#include <utility>

#include "fs/event.hpp"
#include "support/catch.hpp"

using namespace gw::fs;

namespace {

constexpr const char* kId = "0123456789abcdef-7";
constexpr const char* kTime = "2026-12-05T13:00:00.123Z";

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
