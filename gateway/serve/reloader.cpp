#include "gateway/serve/reloader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

namespace gw::gateway {
namespace {

// The write end of the SIGHUP pipe. A signal handler can only reach static
// storage; it does nothing but write one byte (async-signal-safe).
std::atomic<int> hup_fd{-1};

void on_hup(int) {
  const int saved = errno;
  const char b = 'h';
  if (const int fd = hup_fd.load(); fd >= 0) [[maybe_unused]] auto n = ::write(fd, &b, 1);
  errno = saved;
}

fs::UniqueFd hup_read;

// A watched file changed: its own name, or the `..data` link a Kubernetes
// ConfigMap or Secret volume renames into place once the new files are
// complete (the file itself is a link through it that never changes).
bool names_file(const struct inotify_event& ev, const std::string& name) {
  if (name.empty()) return true;  // a watched folder: any change
  if (ev.len == 0) return false;
  const std::string_view changed(ev.name);
  return changed == name || changed == "..data";
}

void drain(int fd) {
  char buf[64];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

}  // namespace

Reloader::Reloader(std::function<void()> reload, std::vector<std::string> watch)
    : reload_(std::move(reload)), watch_(std::move(watch)) {}

Reloader::~Reloader() { stop(); }

void Reloader::start() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe");
  hup_read.reset(p[0]);
  hup_fd = p[1];
  struct sigaction sa {};
  sa.sa_handler = on_hup;
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGHUP, &sa, nullptr);  // replaces libfuse's "exit on SIGHUP"
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe");
  stop_read_.reset(p[0]);
  stop_write_.reset(p[1]);
  inotify_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  for (const auto& path : watch_) {
    std::error_code ec;
    const bool dir = std::filesystem::is_directory(path, ec);
    std::filesystem::path folder = dir ? std::filesystem::path(path) : std::filesystem::path(path).parent_path();
    if (folder.empty()) folder = std::filesystem::path(".");  // `--config gateway.conf`: the working folder
    const int wd = ::inotify_add_watch(inotify_.get(), folder.c_str(),
                                       IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM);
    if (wd < 0) {
      spdlog::warn("cannot watch {} for changes: {}", folder.string(), std::strerror(errno));
      continue;
    }
    file_watches_.emplace_back(wd, dir ? "" : std::filesystem::path(path).filename().string());
  }
  thread_ = std::thread([this] { loop(); });
}

bool Reloader::relevant(const char* buf, long len) const {
  for (long i = 0; i < len;) {
    const auto* ev = reinterpret_cast<const struct inotify_event*>(buf + i);
    for (const auto& [wd, name] : file_watches_)
      if (ev->wd == wd && names_file(*ev, name)) return true;
    i += static_cast<long>(sizeof(struct inotify_event) + ev->len);
  }
  return false;
}

void Reloader::loop() {
  for (;;) {
    struct pollfd fds[3] = {{hup_read.get(), POLLIN, 0}, {inotify_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) return;
    if (fds[2].revents) return;
    bool go = false;
    if (fds[0].revents) {
      drain(hup_read.get());
      spdlog::info("reload requested (SIGHUP)");
      go = true;
    }
    if (fds[1].revents) {
      // Let a burst of changes (an editor's save, a key file rewrite) settle.
      ::usleep(50'000);
      alignas(struct inotify_event) char buf[8192];
      long n;
      while ((n = ::read(inotify_.get(), buf, sizeof buf)) > 0)
        if (relevant(buf, n)) go = true;
      if (go && !fds[0].revents) spdlog::info("reload: configuration or keys changed");
    }
    if (go) reload_();
  }
}

void Reloader::stop() {
  if (!thread_.joinable()) return;
  const char b = 's';
  [[maybe_unused]] auto n = ::write(stop_write_.get(), &b, 1);
  thread_.join();
  hup_fd = -1;
}

}  // namespace gw::gateway
