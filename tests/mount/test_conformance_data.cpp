// Conformance of file contents: reads and writes at offsets, appends, a
// 64 MiB file, and sparse files whose holes must survive the view (SEEK_DATA,
// SEEK_HOLE, st_blocks, hole punching).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "mount/mounted_view.hpp"
#include "support/catch.hpp"

using namespace gw::mount_test;

namespace {

constexpr off_t kMiB = 1 << 20;

std::uint64_t fnv1a(std::uint64_t h, const char* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 1099511628211ULL;
  return h;
}
constexpr std::uint64_t kFnvStart = 14695981039346656037ULL;

// Deterministic, incompressible-looking content (xorshift64).
void fill(std::vector<char>& buf, std::uint64_t& state) {
  for (auto& c : buf) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    c = static_cast<char>(state >> 24);
  }
}

std::uint64_t hash_of(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return 0;
  std::vector<char> buf(kMiB);
  std::uint64_t h = kFnvStart;
  ssize_t n = 0;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) h = fnv1a(h, buf.data(), static_cast<std::size_t>(n));
  ::close(fd);
  return h;
}

std::string read_at(int fd, std::size_t n, off_t off) {
  std::string s(n, '\0');
  const ssize_t got = ::pread(fd, s.data(), n, off);
  if (got < 0) return errno_name(errno);
  s.resize(static_cast<std::size_t>(got));
  return "'" + s + "'";
}

void offsets_script(Transcript& t) {
  const int fd = ::open("f", O_CREAT | O_RDWR, 0644);
  t.call("write", ::write(fd, "hello world", 11));
  t.call("pwrite at 6", ::pwrite(fd, "WORLD", 5, 6));
  t.note("pread 0..11", read_at(fd, 11, 0));
  t.note("pread past the end", read_at(fd, 4, 100));
  t.call("pwrite at 20 (leaves a gap)", ::pwrite(fd, "x", 1, 20));
  t.note("pread the gap", std::to_string(read_at(fd, 30, 0).size()));
  t.call("lseek end", ::lseek(fd, 0, SEEK_END));
  ::close(fd);
  const int app = ::open("f", O_WRONLY | O_APPEND);
  t.call("append", ::write(app, "!!", 2));
  ::close(app);
  t.stat("f");
  const int ro = ::open("f", O_RDONLY);
  t.call("write to a read-only fd", ::write(ro, "x", 1));
  t.note("read after append", read_at(ro, 3, 20));
  ::close(ro);
  const int wo = ::open("f", O_WRONLY);
  char c = 0;
  t.call("read from a write-only fd", ::read(wo, &c, 1));
  ::close(wo);
}

void large_script(Transcript& t) {
  std::vector<char> buf(kMiB);
  std::uint64_t state = 88172645463325252ULL;
  std::uint64_t h = kFnvStart;
  const int fd = ::open("big", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  long written = 0;
  for (int i = 0; i < 64; ++i) {
    fill(buf, state);
    h = fnv1a(h, buf.data(), buf.size());
    written += ::write(fd, buf.data(), buf.size());
  }
  t.call("fsync", ::fsync(fd));
  t.call("close", ::close(fd));
  t.note("bytes written", std::to_string(written));
  t.stat("big");
  t.note("read back matches", hash_of("big") == h ? "yes" : "no");
}

std::string seek(int fd, off_t off, int whence) {
  const off_t r = ::lseek(fd, off, whence);
  return r < 0 ? errno_name(errno) : std::to_string(r);
}

std::string blocks(int fd) {
  struct stat st {};
  ::fstat(fd, &st);
  return "size=" + std::to_string(st.st_size) + " blocks=" + std::to_string(st.st_blocks);
}

void sparse_script(Transcript& t) {
  const int fd = ::open("sparse", O_CREAT | O_RDWR, 0644);
  t.call("write at 0", ::pwrite(fd, "A", 1, 0));
  t.call("write at 16 MiB", ::pwrite(fd, "B", 1, 16 * kMiB));
  t.call("fsync", ::fsync(fd));
  t.note("allocated", blocks(fd));
  t.note("data from 0", seek(fd, 0, SEEK_DATA));
  t.note("hole from 0", seek(fd, 0, SEEK_HOLE));
  t.note("data from 4096", seek(fd, 4096, SEEK_DATA));
  t.note("hole from 16 MiB", seek(fd, 16 * kMiB, SEEK_HOLE));
  t.note("data past the end", seek(fd, 16 * kMiB + 1, SEEK_DATA));
  t.call("punch the first block", ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
  t.note("data from 0 after punching", seek(fd, 0, SEEK_DATA));
  t.note("allocated after punching", blocks(fd));
  t.call("preallocate 1 MiB at 32 MiB", ::fallocate(fd, 0, 32 * kMiB, kMiB));
  t.note("allocated after fallocate", blocks(fd));
  t.call("ftruncate to 64 MiB", ::ftruncate(fd, 64 * kMiB));
  t.note("allocated after growing", blocks(fd));
  ::close(fd);
  t.stat("sparse");
}

}  // namespace

TEST_CASE("reads and writes at offsets, appends and wrong-mode fds behave as natively", "[conformance]") {
  MountedView v;
  const Folders f = start_web(v);
  const auto native = transcript_as(ann.who(), f.native, offsets_script);
  const auto view = transcript_as(ann.who(), f.view, offsets_script);
  CHECK(native.at(2) == "pread 0..11: 'hello WORLD'");
  CHECK(native.at(9) == "write to a read-only fd -> EBADF");
  require_same(native, view);
  CHECK(read_file(f.backing + "/f").substr(0, 11) == "hello WORLD");
}

TEST_CASE("a 64 MiB file round-trips through the view", "[conformance][large]") {
  MountedView v;
  const Folders f = start_web(v);
  const auto native = transcript_as(ann.who(), f.native, large_script);
  const auto view = transcript_as(ann.who(), f.view, large_script);
  CHECK(native.back() == "read back matches: yes");
  require_same(native, view);
  // The backing store holds exactly the bytes the native folder holds.
  CHECK(hash_of(f.backing + "/big") == hash_of(f.native + "/big"));
  CHECK(lstat_of(f.backing + "/big").st_size == 64 * kMiB);
}

TEST_CASE("sparse files keep their holes through the view", "[conformance][sparse]") {
  MountedView v;
  const Folders f = start_web(v);
  const auto native = transcript_as(ann.who(), f.native, sparse_script);
  const auto view = transcript_as(ann.who(), f.view, sparse_script);
  CHECK(native.at(5) == "hole from 0: 4096");
  CHECK(native.at(6) == "data from 4096: " + std::to_string(16 * kMiB));
  CHECK(native.at(8) == "data past the end: ENXIO");
  require_same(native, view);
  // The hole is real in the backing store too, not zeros written out.
  const struct stat backing = lstat_of(f.backing + "/sparse");
  CHECK(backing.st_size == 64 * kMiB);
  CHECK(backing.st_blocks * 512 < 2 * kMiB);
}
