#include "gateway/serve/progress_counter.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace gw::gateway {
namespace {

constexpr std::size_t kSize = 4096;
// The supervisor's counts start on their own cache line: the worker's
// threads write the progress counter all the time.
constexpr std::size_t kSupervisorOffset = 64;
static_assert(kSupervisorOffset + sizeof(SupervisorCounts) <= kSize);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shared between processes");

std::atomic<std::uint64_t>* map_counter(int fd) {
  void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) throw std::runtime_error(std::string("cannot map the progress counter: ") + std::strerror(errno));
  return static_cast<std::atomic<std::uint64_t>*>(p);
}

}  // namespace

ProgressCounter ProgressCounter::create() {
  const int fd = ::memfd_create("gateway-progress", MFD_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("memfd_create failed: ") + std::strerror(errno));
  if (::ftruncate(fd, kSize) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("cannot size the progress counter: ") + std::strerror(errno));
  }
  auto* counter = map_counter(fd);
  new (counter) std::atomic<std::uint64_t>(0);
  new (reinterpret_cast<char*>(counter) + kSupervisorOffset) SupervisorCounts();
  return ProgressCounter(fd, counter);
}

ProgressCounter::ProgressCounter(int fd, std::atomic<std::uint64_t>* counter)
    : fd_(fd),
      counter_(counter),
      supervisor_(reinterpret_cast<SupervisorCounts*>(reinterpret_cast<char*>(counter) + kSupervisorOffset)) {}

ProgressCounter ProgressCounter::attach(int fd) { return ProgressCounter(fd, map_counter(fd)); }

ProgressCounter::ProgressCounter(ProgressCounter&& other) noexcept
    : fd_(other.fd_), counter_(other.counter_), supervisor_(other.supervisor_) {
  other.fd_ = -1;
  other.counter_ = nullptr;
  other.supervisor_ = nullptr;
}

ProgressCounter::~ProgressCounter() {
  if (counter_) ::munmap(counter_, kSize);
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace gw::gateway
