// The kernel's faster paths (fs/kernel_paths.hpp), against the gateway
// binary under test. Whether a path applies is a fact of that binary's
// libfuse (`gateway --version`), never of the environment: a build without
// it must refuse the option (exit 2), and that is what is checked then.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "mount/metrics_page.hpp"
#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

// Whether the binary's `gateway --version` names `path` among what its
// libfuse can do ("libfuse 3.18.3 (built against 3.18; passthrough, io_uring)").
bool built_with(const TempTree& tmp, const std::string& path) {
  const std::string log = tmp / "version.log";
  REQUIRE(run_gateway({"--version"}, log) == 0);
  const std::string text = read_file(log);
  const auto libfuse = text.find("\nlibfuse ");
  REQUIRE(libfuse != std::string::npos);
  const std::string line = text.substr(libfuse + 1, text.find('\n', libfuse + 1) - libfuse - 1);
  INFO(line);
  return line.find("; " + path) != std::string::npos || line.find(", " + path) != std::string::npos;
}

// A build without the path: the option is a configuration error naming it.
void require_refused(MountedView& v, const std::string& option) {
  const std::string log = v.tree() / "refused.log";
  const int code = run_gateway({"check", option}, log);
  INFO(read_file(log));
  CHECK(code == 2);
  CHECK(read_file(log).find(option + ": ") != std::string::npos);
}

// Reads the whole file at `path` as ann; its size, or the errno's name.
std::string read_all_as_ann(const std::string& path) {
  return run_as(ann.who(), [&] {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_name(errno);
    char buf[1 << 16];
    long total = 0;
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0; total += n)
      if (n < 0) return errno_name(errno);
    ::close(fd);
    return std::to_string(total);
  });
}

bool log_has(const GatewayProcess& p, const std::string& text, double seconds) {
  for (auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(std::chrono::milliseconds(50)))
    if (p.log().find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("--fuse-passthrough: downloads are read by the kernel, uploads and mixed opens still reach the gateway",
          "[kernel-paths]") {
  MountedView v;
  if (!built_with(v.tree(), "passthrough")) {
    require_refused(v, "--fuse-passthrough");
    WARN("not applicable: this gateway's libfuse has no passthrough (refused with exit 2, as it must be)");
    return;
  }
  const std::string web = v.add_volume("web");
  constexpr long kSize = 8 << 20;
  write_file(web + "/big", std::string(kSize, 'a'), kVolumeOwner, kVolumeOwner);
  const int port = free_loopback_port();
  v.start(ViewSpec{{ann}, {"web:ann:web"}, {"--fuse-passthrough", "--metrics-listen", "127.0.0.1:" + std::to_string(port)}});
  const std::string big = v.home(ann) + "/web/big";

  // 8 MiB read: 64 READ requests through the daemon (128 KiB each); none with passthrough.
  const long opens = requests_ok(port, "open");
  const long reads = requests_ok(port, "read");
  CHECK(read_all_as_ann(big) == std::to_string(kSize));
  CHECK(requests_ok(port, "open") == opens + 1);
  CHECK(requests_ok(port, "read") == reads);

  // The kernel's io modes per inode: a writer while a download holds the
  // backing file (it must carry the same backing id, its io coming here),
  // and a reader while a writer holds the page cache (it must open cached).
  const std::string mixed = run_as(ann.who(), [&] {
    std::string out;
    const int reader = ::open(big.c_str(), O_RDONLY | O_CLOEXEC);
    out += "reader " + errno_name(reader < 0 ? errno : 0);
    const int writer = ::open(big.c_str(), O_WRONLY | O_CLOEXEC);
    out += ", writer " + errno_name(writer < 0 ? errno : 0);
    out += ", write " + errno_name(::pwrite(writer, "NEW", 3, 0) == 3 ? 0 : errno);
    char seen[4] = {};
    out += ", reader sees " + std::string(::pread(reader, seen, 3, 0) == 3 ? seen : "?");
    ::close(reader);
    ::close(writer);
    const int first_writer = ::open(big.c_str(), O_WRONLY | O_CLOEXEC);
    out += "; writer " + errno_name(first_writer < 0 ? errno : 0);
    const int second = ::open(big.c_str(), O_RDONLY | O_CLOEXEC);
    out += ", reader beside it " + errno_name(second < 0 ? errno : 0);
    out += " sees " + std::string(::pread(second, seen, 3, 0) == 3 ? seen : "?");
    ::close(second);
    ::close(first_writer);
    return out;
  });
  CHECK(mixed == "reader ok, writer ok, write ok, reader sees NEW; writer ok, reader beside it ok sees NEW");
  CHECK(read_file(web + "/big").substr(0, 4) == "NEWa");

  // An atomic overwrite while a download holds the old file: the name gets
  // a new file under the same inode, whose backing file is still the old
  // one. A download after it must read the new content (from the daemon),
  // the one before it keeps the old.
  const std::string replaced = run_as(ann.who(), [&] {
    const int old_reader = ::open(big.c_str(), O_RDONLY | O_CLOEXEC);
    const int upload = ::open(big.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    std::string out = "upload " + errno_name(upload < 0 ? errno : 0);
    out += ", write " + errno_name(::write(upload, "fresh", 5) == 5 ? 0 : errno);
    out += ", close " + errno_name(::close(upload) == 0 ? 0 : errno);
    char seen[6] = {};
    const int new_reader = ::open(big.c_str(), O_RDONLY | O_CLOEXEC);
    out += ", new reader sees " + std::string(::pread(new_reader, seen, 5, 0) == 5 ? seen : "?");
    out += ", old reader sees " + std::string(::pread(old_reader, seen, 5, 0) == 5 ? seen : "?");
    ::close(new_reader);
    ::close(old_reader);
    return out;
  });
  CHECK(replaced == "upload ok, write ok, close ok, new reader sees fresh, old reader sees NEWaa");
  // Every open was given back: a new download passes through again.
  const long after = requests_ok(port, "read");
  CHECK(read_all_as_ann(big) == "5");
  CHECK(requests_ok(port, "read") == after);
}

TEST_CASE("--fuse-io-uring: the log says whether requests arrive over the ring", "[kernel-paths]") {
  MountedView v;
  if (!built_with(v.tree(), "io_uring")) {
    require_refused(v, "--fuse-io-uring");
    WARN("not applicable: this gateway's libfuse has no io_uring (refused with exit 2, as it must be)");
    return;
  }
  // The host decides (the test reads its setting, it does not change it):
  // either answer must be said, and be the right one.
  std::string enabled;
  std::ifstream("/sys/module/fuse/parameters/enable_uring") >> enabled;
  const Folders f = start_web(v, "", {"--fuse-io-uring"});
  write_file(f.backing + "/file", "content", kVolumeOwner, kVolumeOwner);
  CHECK(read_all_as_ann(f.view + "/file") == "7");
  if (enabled == "Y") {
    CHECK(log_has(v.process(), "fuse: requests arrive over io_uring", 10));
  } else {
    CHECK(log_has(v.process(), "the kernel offers no io_uring", 10));
    WARN("enable_uring is " << enabled << " here: checked that the gateway says it got no ring");
  }
}
