// The audit trail without a mount: the line a record makes (fields, order,
// quoting), and that a refusal is written once, with its reason, where the
// policy decides it, the outcome telling the operation so (no thread-local).
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fs/audit.hpp"
#include "fs/request.hpp"
#include "fs/view.hpp"
#include "support/catch.hpp"

using namespace gw::fs;

namespace {

constexpr const char* kTime = "2026-01-02T03:04:05.678Z";
const Caller ryan{54321, 54321, 42};

// A mapping root as the layout makes one: its place is its whole path.
InodePtr mapping_root(const std::string& label, const std::string& path, bool read_only = false) {
  auto m = std::make_shared<MappingRoot>();
  m->id = std::hash<std::string>{}(label);
  m->label = label;
  m->user = {"ryan", 54321, 54321};
  m->stored = {54322, 54322};
  m->read_only = read_only;
  auto node = std::make_shared<Inode>();
  node->id = 7;
  node->mapping = std::move(m);
  node->type = S_IFDIR;
  node->is_root = true;
  node->set_place(nullptr, path);
  return node;
}

// The trail's lines, as the gateway's logger writes them ("%v", one a line).
struct CapturedTrail {
  std::ostringstream out;
  AuditTrail trail() {
    auto logger = std::make_shared<spdlog::logger>("audit", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    logger->set_pattern("%v");
    return AuditTrail(std::move(logger));
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> all;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) all.push_back(line);
    return all;
  }
};

std::string line_of(AuditRecord r) { return audit_line(r, kTime); }

}  // namespace

TEST_CASE("audit lines: the documented fields in a fixed order", "[fs][audit]") {
  const InodePtr web = mapping_root("ryan:web", "/ryan/web");
  const std::string head = R"({"time":"2026-01-02T03:04:05.678Z","user":"ryan","uid":54321,"pid":42,)";
  CHECK(line_of({web.get(), Op::create, "/ryan/web/a.bin", {}, 0, 0, ryan, {}}) ==
        head + R"("op":"create","path":"/ryan/web/a.bin","mapping":"ryan:web","result":"ok"})");
  // A closed file's line always carries its bytes, 0 included.
  CHECK(line_of({web.get(), Op::write, "/ryan/web/a.bin", {}, 0, 0, ryan, {}}) ==
        head + R"("op":"write","path":"/ryan/web/a.bin","mapping":"ryan:web","bytes":0,"result":"ok"})");
  CHECK(line_of({web.get(), Op::write, "/ryan/web/a.bin", {}, ENOSPC, 3000, ryan, {}}) ==
        head + R"("op":"write","path":"/ryan/web/a.bin","mapping":"ryan:web","bytes":3000,"result":"ENOSPC"})");
  CHECK(line_of({web.get(), Op::rename, "/ryan/web/a.bin", "/ryan/web/d/b.bin", 0, 0, ryan, {}}) ==
        head + R"("op":"rename","path":"/ryan/web/a.bin","to":"/ryan/web/d/b.bin","mapping":"ryan:web","result":"ok"})");
  CHECK(line_of({web.get(), Op::unlink, "/ryan/web/x", {}, EROFS, 0, ryan, "read-only mapping"}) ==
        head + R"("op":"unlink","path":"/ryan/web/x","mapping":"ryan:web","result":"EROFS","reason":"read-only mapping"})");
  // The view's own nodes belong to no user and no mapping.
  auto chroot = std::make_shared<Inode>();
  chroot->synthetic = std::make_shared<Synthetic>();
  chroot->set_place(nullptr, "/data/ryan-chroot");
  CHECK(line_of({chroot.get(), Op::mkdir, "/data/ryan-chroot/x", {}, EROFS, 0, ryan, "read-only"}) ==
        R"({"time":"2026-01-02T03:04:05.678Z","user":"-","uid":54321,"pid":42,"op":"mkdir",)"
        R"("path":"/data/ryan-chroot/x","mapping":"view","result":"EROFS","reason":"read-only"})");
}

TEST_CASE("audit lines quote names: no forged field, no second line, always valid JSON", "[fs][audit]") {
  const InodePtr web = mapping_root("ryan:web", "/ryan/web");
  const std::string line = line_of({web.get(), Op::create, child_path(*web, "a\",\"op\":\"forged\"\n"), {}, 0, 0, ryan, {}});
  CHECK(line.find(R"("path":"/ryan/web/a\",\"op\":\"forged\"\n","mapping")") != std::string::npos);
  CHECK(line.find('\n') == std::string::npos);
  // Bytes that are not UTF-8 (an SFTP name is bytes) become U+FFFD.
  const std::string odd = line_of({web.get(), Op::unlink, child_path(*web, "caf\xe9"), {}, 0, 0, ryan, {}});
  CHECK(odd.find(R"("path":"/ryan/web/caf\ufffd")") != std::string::npos);
}

TEST_CASE("a refusal is audited once, with its reason, where the policy decides it", "[fs][audit]") {
  CapturedTrail captured;
  const View view(ViewOptions{}, captured.trail());
  const InodePtr music = mapping_root("ryan:music", "/ryan/music", true);
  const InodePtr web = mapping_root("ryan:web", "/ryan/web");

  // Unrestricted first: allowed, and nothing written by the check itself.
  const Outcome allowed = view.policy().check(*web, Op::unlink, ryan, "old.txt");
  CHECK((!allowed && !allowed.refused));
  audit_child(view, ryan, *web, "old.txt", Op::unlink, allowed);
  // Refused: the policy writes the line; the operation's own line, given the
  // outcome, adds none.
  const Outcome refused = view.policy().check(*music, Op::unlink, ryan, "song.ogg");
  CHECK((refused.err == EROFS && refused.refused));
  audit_child(view, ryan, *music, "song.ogg", Op::unlink, refused);
  // A failure that is not a refusal is the operation's line.
  audit_child(view, ryan, *web, "gone", Op::unlink, ENOENT);

  const auto lines = captured.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].find(R"("op":"unlink","path":"/ryan/web/old.txt","mapping":"ryan:web","result":"ok"})") !=
        std::string::npos);
  CHECK(lines[1].find(R"("path":"/ryan/music/song.ogg","mapping":"ryan:music","result":"EROFS",)"
                      R"("reason":"read-only mapping"})") != std::string::npos);
  CHECK(lines[2].find(R"("path":"/ryan/web/gone","mapping":"ryan:web","result":"ENOENT"})") != std::string::npos);
}

TEST_CASE("a refusal travels in its outcome, not in the thread that decided it", "[fs][audit]") {
  CapturedTrail captured;
  const View view(ViewOptions{}, captured.trail());
  const InodePtr music = mapping_root("ryan:music", "/ryan/music", true);
  Outcome refused;
  std::thread([&] { refused = view.policy().check(*music, Op::create, ryan, "x.bin"); }).join();
  audit_child(view, ryan, *music, "x.bin", Op::create, refused);  // another thread: still no second line
  // And a refusal on this thread says nothing about the next operation.
  audit_child(view, ryan, *music, "y.bin", Op::create, EEXIST);
  const auto lines = captured.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find(R"("reason":"read-only mapping")") != std::string::npos);
  CHECK(lines[1].find(R"("path":"/ryan/music/y.bin","mapping":"ryan:music","result":"EEXIST"})") != std::string::npos);
}

TEST_CASE("a rename's lines carry its destination, refusals too", "[fs][audit]") {
  CapturedTrail captured;
  const View view(ViewOptions{}, captured.trail());
  const InodePtr web = mapping_root("ryan:web", "/ryan/web");
  const InodePtr other = mapping_root("ryan:other", "/ryan/other");
  const std::string dest = child_path(*other, "b.bin");
  const Outcome refused = view.policy().refuse(*web, Op::rename, ryan, EXDEV, "rename across mappings", "b.bin", dest);
  audit_child(view, ryan, *web, "b.bin", Op::rename, refused, dest);
  audit_child(view, ryan, *web, "a.bin", Op::rename, 0, child_path(*web, "c.bin"));
  const auto lines = captured.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find(R"("op":"rename","path":"/ryan/web/b.bin","to":"/ryan/other/b.bin","mapping":"ryan:web",)"
                      R"("result":"EXDEV","reason":"rename across mappings"})") != std::string::npos);
  CHECK(lines[1].find(R"("op":"rename","path":"/ryan/web/a.bin","to":"/ryan/web/c.bin","mapping":"ryan:web",)"
                      R"("result":"ok"})") != std::string::npos);
}

TEST_CASE("without a trail nothing is written, and refusals still refuse", "[fs][audit]") {
  const View view(ViewOptions{});
  CHECK_FALSE(view.audit().enabled());
  const InodePtr music = mapping_root("ryan:music", "/ryan/music", true);
  const Outcome refused = view.policy().check(*music, Op::mkdir, ryan, "d");
  CHECK((refused.err == EROFS && refused.refused));
  // Another user's tree, whatever the op.
  const Outcome stranger = view.policy().check(*music, Op::lookup, Caller{1001, 1001, 7});
  CHECK((stranger.err == EACCES && stranger.refused));
}
