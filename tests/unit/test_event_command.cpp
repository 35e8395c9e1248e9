// CommandSink running small scripts the tests write into a temp folder
// (root: the command switches to nobody). What the command gets (the event
// on stdin, only the GATEWAY_EVENT_* environment, uid/gid 65534 with no
// groups and no capabilities, no_new_privs, cwd /, no fd of the gateway's),
// where its output goes (the gateway's stderr), its signals (none blocked
// or ignored), and how it ends: exit codes, signals, killed with its whole
// process group at the time limit, a command that never reads its stdin, a
// command that cannot start.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_support.hpp"
#include "gateway/events/command_sink.hpp"
#include "support/catch.hpp"
#include "support/prerequisite.hpp"

using namespace gw::gateway;
using gw::test::read_text;
using gw::test::TempDir;
using gw::test::write_file;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

SpooledEvent event_with_path(const std::string& path, const std::string& seq = "1") {
  const std::string id = "00000000000000aa-" + seq;
  return {R"({"id":")" + id + R"(","kind":"upload","time":"2026-12-05T13:00:00.123Z","user":"ryan",)"
              R"("mapping":"ryan:web","volume":"thttpd_files","path":")" + path +
              R"(","volume_path":"site/a.html","size":1234,"replaced":true})",
          id, "upload", "ryan:web"};
}

// A temp folder nobody can enter, an "out" folder in it nobody can write,
// and scripts in it (with OUT replaced by that folder).
struct Scene {
  TempDir dir;
  std::string out = dir / "out";
  Scene() {
    gw::test::require_root();
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    gw::test::make_dir(out, 0755, kNobody, kNogroup);
  }
  std::string script(const std::string& name, std::string body) {
    for (std::size_t at; (at = body.find("OUT")) != std::string::npos;) body.replace(at, 3, out);
    const std::string path = dir / name;
    write_file(path, "#!/bin/sh\n" + body);
    REQUIRE(::chmod(path.c_str(), 0755) == 0);
    return path;
  }
  std::string result(const std::string& name) const { return read_text(out + "/" + name); }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// /proc/PID/status as key -> value (tabs between fields kept).
std::map<std::string, std::string> status_fields(const std::string& text) {
  std::map<std::string, std::string> fields;
  for (const auto& line : lines_of(text)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto value = line.find_first_not_of(" \t", colon + 1);
    fields[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
  }
  return fields;
}

// Gone, or a zombie waiting for its new parent to reap it.
bool gone(pid_t pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return true;
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z';
}

// Gives this (root) test process supplementary groups for one scope, so a
// command that kept them would show them.
class ExtraGroups {
 public:
  ExtraGroups() {
    const int n = ::getgroups(0, nullptr);
    REQUIRE(n >= 0);
    saved_.resize(static_cast<std::size_t>(n));
    REQUIRE(::getgroups(n, saved_.data()) == n);
    const gid_t extra[] = {4, 100};  // adm, users
    REQUIRE(::setgroups(2, extra) == 0);
  }
  ~ExtraGroups() { ::setgroups(saved_.size(), saved_.data()); }
  ExtraGroups(const ExtraGroups&) = delete;
  ExtraGroups& operator=(const ExtraGroups&) = delete;

 private:
  std::vector<gid_t> saved_;
};

// Runs `deliver` with this process's stderr (fd 2) sent to `file`.
DeliveryResult with_stderr_to(const std::string& file, CommandSink& sink, const SpooledEvent& event) {
  const int saved = ::dup(2);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE((saved >= 0 && fd >= 0));
  ::dup2(fd, 2);
  ::close(fd);
  const DeliveryResult result = sink.deliver(event);
  ::dup2(saved, 2);
  ::close(saved);
  return result;
}

}  // namespace

TEST_CASE("The command gets the event on stdin and in its environment, as nobody, without privileges") {
  Scene scene;
  const std::string path = scene.script("record",
                                        "cat > OUT/stdin\n"
                                        "tr '\\0' '\\n' < /proc/$$/environ > OUT/env\n"
                                        "cat /proc/$$/status > OUT/status\n"
                                        "readlink /proc/$$/cwd > OUT/cwd\n"
                                        "ls /proc/$$/fd > OUT/fds\n"
                                        "echo 'to stdout'\n"
                                        "echo 'to stderr' >&2\n");
  // A fd of the "gateway" without close-on-exec: the command must not get it.
  const int leak = ::open("/dev/null", O_RDONLY);
  REQUIRE(::dup2(leak, 42) == 42);
  ::close(leak);
  CommandSink sink(path, kNobody, kNogroup, 10);
  const SpooledEvent event = event_with_path("/ryan/web/site/a.html");
  DeliveryResult result;
  {
    const ExtraGroups groups;
    result = with_stderr_to(scene.dir / "stderr", sink, event);
  }
  ::close(42);
  CHECK(result.ok);
  CHECK(result.problem.empty());
  CHECK(sink.name() == "command");

  CHECK(scene.result("stdin") == event.json + "\n");
  CHECK(lines_of(scene.result("env")) ==
        std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin", "GATEWAY_EVENT_ID=00000000000000aa-1",
                                 "GATEWAY_EVENT_KIND=upload", "GATEWAY_EVENT_TIME=2026-12-05T13:00:00.123Z",
                                 "GATEWAY_EVENT_USER=ryan", "GATEWAY_EVENT_MAPPING=ryan:web",
                                 "GATEWAY_EVENT_VOLUME=thttpd_files", "GATEWAY_EVENT_PATH=/ryan/web/site/a.html",
                                 "GATEWAY_EVENT_VOLUME_PATH=site/a.html", "GATEWAY_EVENT_SIZE=1234"});
  auto status = status_fields(scene.result("status"));
  CHECK(status["Uid"] == "65534\t65534\t65534\t65534");
  CHECK(status["Gid"] == "65534\t65534\t65534\t65534");
  CHECK(status["Groups"] == "");
  CHECK(status["CapEff"] == "0000000000000000");
  CHECK(status["CapPrm"] == "0000000000000000");
  CHECK(status["CapAmb"] == "0000000000000000");
  CHECK(status["NoNewPrivs"] == "1");
  CHECK(scene.result("cwd") == "/\n");
  for (const auto& fd : lines_of(scene.result("fds"))) CHECK(fd != "42");
  const std::string err = read_text(scene.dir / "stderr");
  CHECK_THAT(err, Catch::Contains("to stdout"));
  CHECK_THAT(err, Catch::Contains("to stderr"));
}

TEST_CASE("The command's exit status decides: 0 is delivered, anything else is not") {
  Scene scene;
  CHECK(CommandSink(scene.script("ok", "exit 0\n"), kNobody, kNogroup, 10).deliver(event_with_path("/a")).ok);
  const DeliveryResult three = CommandSink(scene.script("three", "exit 3\n"), kNobody, kNogroup, 10)
                                   .deliver(event_with_path("/a"));
  CHECK_FALSE(three.ok);
  CHECK(three.problem == "exit 3");
  const DeliveryResult killed = CommandSink(scene.script("suicide", "kill -9 $$\n"), kNobody, kNogroup, 10)
                                    .deliver(event_with_path("/a"));
  CHECK_FALSE(killed.ok);
  CHECK(killed.problem == "killed by signal 9");
}

TEST_CASE("The command starts with no signal blocked or ignored, whatever the calling thread's") {
  Scene scene;
  // As in the supervisor, whose threads block SIGTERM, SIGCHLD, ...; and a
  // process may ignore SIGPIPE.
  sigset_t term, old_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  REQUIRE(::pthread_sigmask(SIG_BLOCK, &term, &old_mask) == 0);
  struct sigaction ignore {}, old_pipe {};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(::sigaction(SIGPIPE, &ignore, &old_pipe) == 0);
  const SpooledEvent event = event_with_path("/a");
  const DeliveryResult termed =
      CommandSink(scene.script("term", "kill -TERM $$\nexit 0\n"), kNobody, kNogroup, 10).deliver(event);
  const DeliveryResult piped =
      CommandSink(scene.script("pipe", "kill -PIPE $$\nexit 0\n"), kNobody, kNogroup, 10).deliver(event);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  CHECK(termed.problem == "killed by signal 15");
  CHECK(piped.problem == "killed by signal 13");
}

TEST_CASE("A command past the time limit is killed with its whole process group") {
  Scene scene;
  const std::string path = scene.script("slow", "sleep 30 &\necho $! > OUT/background\nsleep 30\n");
  CommandSink sink(path, kNobody, kNogroup, 1);
  const auto start = Clock::now();
  const DeliveryResult result = sink.deliver(event_with_path("/a"));
  const auto took = Clock::now() - start;
  CHECK_FALSE(result.ok);
  CHECK(result.problem == "timed out after 1 s");
  CHECK(took >= std::chrono::milliseconds(900));
  CHECK(took < std::chrono::seconds(2));
  // The background sleep was in the group: killed too (reparented, it may
  // stay a zombie for a moment).
  const std::string background = scene.result("background");
  REQUIRE_FALSE(background.empty());
  const pid_t pid = static_cast<pid_t>(std::stol(background));
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  while (!gone(pid) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(gone(pid));
}

TEST_CASE("A command that never reads its stdin completes, however long the event") {
  Scene scene;
  // Over the pipe's default 64 KiB: the line would not fit without growing it.
  const SpooledEvent big = event_with_path("/ryan/web/" + std::string(100'000, 'n'));
  CHECK(CommandSink(scene.script("ignore", "exit 0\n"), kNobody, kNogroup, 10).deliver(big).ok);
  const DeliveryResult counted =
      CommandSink(scene.script("count", "wc -c > OUT/count\n"), kNobody, kNogroup, 10).deliver(big);
  CHECK(counted.ok);
  CHECK(scene.result("count") == std::to_string(big.json.size() + 1) + "\n");
}

TEST_CASE("A command that cannot start says why") {
  Scene scene;
  const DeliveryResult missing =
      CommandSink("/nonexistent/on-event", kNobody, kNogroup, 10).deliver(event_with_path("/a"));
  CHECK_FALSE(missing.ok);
  CHECK(missing.problem == "cannot start /nonexistent/on-event: execve: No such file or directory");
  // Readable and executable by root only: nobody cannot run it.
  const std::string path = scene.script("private", "exit 0\n");
  REQUIRE(::chmod(path.c_str(), 0700) == 0);
  const DeliveryResult denied = CommandSink(path, kNobody, kNogroup, 10).deliver(event_with_path("/a"));
  CHECK(denied.problem == "cannot start " + path + ": execve: Permission denied");
  CHECK(CommandSink(path, 0, 0, 10).deliver(event_with_path("/a")).ok);
}

TEST_CASE("Commands run from several threads at once") {
  Scene scene;
  CommandSink sink(scene.script("read", "cat > /dev/null\n"), kNobody, kNogroup, 10);
  constexpr int kThreads = 4;
  constexpr int kEach = 5;
  std::vector<int> delivered(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        delivered[t] += sink.deliver(event_with_path("/a", std::to_string(i))).ok ? 1 : 0;
    });
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) CHECK(delivered[t] == kEach);
}
