#include "gateway/serve/metrics_service.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "gateway/atomic_file.hpp"
#include "gateway/serve/metrics_http.hpp"

namespace gw::gateway {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    struct pollfd p {fd, events, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

// Sends all of `data` before `deadline`; false if the client did not take it.
bool send_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(fd, POLLOUT, deadline)) continue;
    return false;
  }
  return true;
}

// A lingering close: after our side is shut down, what the client still
// sends (a body, the rest of an oversized head) is read and dropped for a
// moment, because closing with unread bytes makes the kernel send a reset,
// which can destroy the answer before the client has read it.
void drain(int fd, Clock::time_point deadline) {
  char buf[4096];
  std::size_t dropped = 0;
  while (dropped < 65536 && wait_for(fd, POLLIN, deadline)) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;  // the client closed too
    dropped += static_cast<std::size_t>(n);
  }
}

}  // namespace

MetricsService::MetricsService(fs::UniqueFd listen, std::string file, std::function<std::string()> render)
    : listen_(std::move(listen)), file_(std::move(file)), render_(std::move(render)) {
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_.valid()) throw std::runtime_error(std::string("metrics: eventfd: ") + std::strerror(errno));
  // Non-blocking: a connection reset between poll and accept must not
  // block the thread in accept.
  if (listen_.valid() && ::fcntl(listen_.get(), F_SETFL, ::fcntl(listen_.get(), F_GETFL) | O_NONBLOCK) != 0)
    throw std::runtime_error(std::string("metrics: fcntl: ") + std::strerror(errno));
  if (!file_.empty()) replace_file(file_, render_(), 0644);  // ExitError when it cannot be written
  thread_ = std::thread([this] { run(); });
}

MetricsService::~MetricsService() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_.get(), &one, sizeof one);
  thread_.join();
  if (!file_.empty()) std::remove(file_.c_str());
}

void MetricsService::run() {
  auto next_file = Clock::now() + kFileInterval;
  for (;;) {
    struct pollfd fds[2] = {{wake_.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}};  // fd -1: ignored by poll
    const int timeout = file_.empty() ? -1 : remaining_ms(next_file);
    const int n = ::poll(fds, 2, timeout);
    if (n < 0 && errno != EINTR) {
      spdlog::error("metrics: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents) return;
    if (n > 0 && (fds[1].revents & POLLIN)) {
      const int connection = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (connection >= 0) {
        answer(connection);
        ::close(connection);
      }
    }
    if (!file_.empty() && Clock::now() >= next_file) {
      write_file();
      next_file = Clock::now() + kFileInterval;
    }
  }
}

void MetricsService::answer(int connection) {
  try {
    const auto head_deadline = Clock::now() + kHeadTimeout;
    const auto close_gently = [connection] {
      ::shutdown(connection, SHUT_WR);
      drain(connection, Clock::now() + kLinger);
    };
    std::string received;
    char buf[2048];
    HeadState state = HeadState::incomplete;
    while (state == HeadState::incomplete) {
      if (!wait_for(connection, POLLIN, head_deadline)) {
        send_all(connection, error_response(408), Clock::now() + kHeadTimeout);
        close_gently();
        return;
      }
      const ssize_t n = ::recv(connection, buf, sizeof buf, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return;  // closed or reset before a whole request: nothing to answer
      received.append(buf, static_cast<std::size_t>(n));
      state = head_state(received);
    }
    const std::string response =
        state == HeadState::too_large ? error_response(431) : metrics_response(received, render_);
    if (send_all(connection, response, Clock::now() + kSendTimeout)) close_gently();
  } catch (const std::exception& e) {
    spdlog::error("metrics: {}", e.what());
  }
}

void MetricsService::write_file() {
  try {
    replace_file(file_, render_(), 0644);
    if (file_failing_) spdlog::info("metrics: {} written again", file_);
    file_failing_ = false;
  } catch (const std::exception& e) {
    if (!file_failing_) spdlog::warn("metrics: {} (retrying every {} s)", e.what(), kFileInterval.count());
    file_failing_ = true;
  }
}

}  // namespace gw::gateway
