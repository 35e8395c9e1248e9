#include "gateway/serve.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>

#include "fs/identity.hpp"
#include "fs/session.hpp"
#include "gateway/banner.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/logging.hpp"
#include "gateway/reloader.hpp"
#include "gateway/served_tree.hpp"
#include "gateway/sshd_supervisor.hpp"
#include "gateway/status_file.hpp"

namespace gw::gateway {
namespace {

constexpr unsigned kWorkerThreads = 16;

// The open-file limit bounds cached backing fds plus open files.
std::size_t prepare_fd_limit() {
  struct rlimit lim {};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  // A quarter for cached O_PATH fds; the rest for open files and folders.
  return std::clamp<std::size_t>(lim.rlim_cur / 4, 64, 8192);
}

void ensure_mountpoint(const std::string& path) {
  if (fs::is_dead_mount(path)) return;  // the Session replaces it
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw ExitError(exit_code::mount_failed, path + ": " + ec.message());
}

class Server {
 public:
  explicit Server(const Settings& s) : settings_(s), view_(fs::ViewOptions{s.cache_timeout, prepare_fd_limit()}) {}

  int run() {
    context_ = make_context(settings_);
    for (const auto& k : context_.host_keys) spdlog::info("host key {}: {}", k.file, k.fingerprint);
    ServedTree tree = build_tree(settings_, context_, view_);
    if (!tree.problems.empty()) {
      for (const auto& p : tree.problems) std::cerr << p << '\n';
      throw ExitError(tree.exit_code, std::to_string(tree.problems.size()) + " problem(s); nothing was mounted");
    }
    plan_ = tree.plan;
    view_.install(std::move(tree.layout));
    ensure_mountpoint(settings_.mountpoint);
    try {
      fs::Session session(view_, settings_.mountpoint);
      return serve(session);
    } catch (const fs::MountError& e) {
      throw ExitError(exit_code::mount_failed, e.what());
    }
  }

 private:
  int serve(fs::Session& session) {
    std::unique_ptr<SshdSupervisor> sshd;
    if (settings_.run_sshd) {
      sshd = std::make_unique<SshdSupervisor>(SshdLaunch{settings_.sshd_binary, settings_.mountpoint,
                                                         settings_.sshd_capabilities});
      sshd->start();
    }
    sshd_ = sshd.get();
    publish("ok");
    std::vector<std::string> watched{settings_.state_dir + "/authorized_keys"};
    std::filesystem::create_directories(watched[0]);
    if (!settings_.config_file.empty()) watched.push_back(settings_.config_file);
    Reloader reloader([this] { reload(); }, watched);
    spdlog::info("serving {} user(s) at {}", plan_.users.size(), settings_.mountpoint);
    const int rc = session.run(kWorkerThreads, [&] { reloader.start(); });
    reloader.stop();
    if (sshd) sshd->stop();
    sshd_ = nullptr;
    remove_runtime(settings_.state_dir);
    spdlog::info("unmounting {}", settings_.mountpoint);
    return rc == 0 ? exit_code::ok : exit_code::failure;
  }

  // Re-reads the configuration exactly as at start; on any problem the
  // served tree stays as it was and the problem is logged.
  void reload() {
    std::lock_guard lock(reload_mu_);
    ++reloads_;
    try {
      Settings fresh = parse_invocation(settings_.args).settings;
      ServedTree tree = build_tree(fresh, context_, view_);
      if (!tree.problems.empty()) {
        for (const auto& p : tree.problems) spdlog::error("reload refused: {}", p);
        publish(tree.problems.front());
        return;
      }
      plan_ = tree.plan;
      view_.install(std::move(tree.layout));
      spdlog::info("reloaded: {} user(s)", plan_.users.size());
      publish("ok");
    } catch (const std::exception& e) {
      spdlog::error("reload refused: {}", e.what());
      publish(e.what());
    }
  }

  void publish(const std::string& last) {
    RuntimeState s;
    s.pid = ::getpid();
    s.sshd_pid = sshd_ ? sshd_->pid() : 0;
    s.reloads = reloads_;
    s.last_reload = last;
    s.mountpoint = settings_.mountpoint;
    write_runtime(settings_.state_dir, s);
  }

  const Settings& settings_;
  fs::View view_;
  ServeContext context_;
  mapping::Plan plan_;
  SshdSupervisor* sshd_ = nullptr;
  std::mutex reload_mu_;  // one reload at a time
  unsigned reloads_ = 0;
};

}  // namespace

int serve(const Settings& settings) {
  log_banner(settings);
  setup_audit(settings.audit_log);
  if (const int e = fs::drop_supplementary_groups())
    throw ExitError(exit_code::failure, std::string("cannot drop supplementary groups: ") + std::strerror(e));
  Server server(settings);
  return server.run();
}

}  // namespace gw::gateway
