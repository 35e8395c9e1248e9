#include "gateway/serve/worker.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <unordered_set>

#include "fs/identity.hpp"
#include "fs/layout.hpp"
#include "fs/session.hpp"
#include "gateway/events/spool_writer.hpp"
#include "gateway/sshd/accounts.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/serve/instance_tag.hpp"
#include "gateway/serve/metrics_page.hpp"
#include "gateway/serve/metrics_service.hpp"
#include "gateway/serve/progress_counter.hpp"
#include "gateway/serve/quota_status.hpp"
#include "gateway/serve/reloader.hpp"
#include "gateway/serve/build_phases.hpp"
#include "gateway/serve/served_tree.hpp"
#include "gateway/sshd/etc_tree.hpp"
#include "gateway/sshd/private_etc.hpp"
#include "gateway/serve/status_file.hpp"
#include "mapping/parse.hpp"

namespace gw::gateway {
namespace {

// Raises the worker's soft open-file limit to its hard limit (every open
// file of every user is a descriptor of the worker) and returns it.
std::size_t raise_open_file_limit() {
  struct rlimit lim {};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

// The worker's descriptors, shared out under its open-file limit: a quarter
// for cached O_PATH fds, half for open files (the handle caps), and a
// quarter kept free for lookups, listings and libfuse itself.
fs::ViewOptions view_options(const Settings& s, std::size_t open_file_limit) {
  fs::ViewOptions o;
  o.cache_timeout = s.cache_timeout;
  o.kernel = s.kernel_paths;
  o.quota_rescan = s.quota_rescan;
  o.upload_tag = instance_tag(s.state_dir);
  o.fd_cache = std::clamp<std::size_t>(open_file_limit / 4, 64, 8192);
  o.open_files_total = std::max<std::size_t>(open_file_limit / 2, 16);
  // No single user may take more than a quarter of what all may hold.
  o.open_files_per_user =
      std::clamp<std::size_t>(s.open_files_per_user, 1, std::max<std::size_t>(o.open_files_total / 4, 1));
  if (o.open_files_per_user < s.open_files_per_user)
    spdlog::warn("open files per user lowered to {} (the worker's open-file limit is {})", o.open_files_per_user,
                 open_file_limit);
  return o;
}

void ensure_mountpoint(const std::string& path) {
  if (fs::is_dead_mount(path)) return;  // the Session replaces it
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw ExitError(exit_code::mount_failed, path + ": " + ec.message());
}

class Worker {
 public:
  Worker(const Settings& s, fs::AuditTrail audit)
      : settings_(s), view_(view_options(s, raise_open_file_limit()), std::move(audit)) {}

  int run(int ready_fd) {
    if (settings_.progress_fd >= 0) {
      progress_.emplace(ProgressCounter::attach(settings_.progress_fd));
      view_.set_served_counter(progress_->counter());
    }
    // The metrics socket crossed exec to reach this process; nothing this
    // worker starts (sshd -V asked for its version) gets it.
    if (settings_.metrics_fd >= 0) ::fcntl(settings_.metrics_fd, F_SETFD, FD_CLOEXEC);
    start_event_spool();
    BuildPhases phases = BuildPhases::since_exec();
    phases.mark("exec");  // exec, parsing the configuration, the spool
    context_ = make_context(settings_);
    phases.mark("context");
    for (const auto& k : context_.host_keys) spdlog::info("host key {}: {}", k.file, k.fingerprint);
    ServedTree tree = build_tree(settings_, context_, keys_, view_, phases);
    if (!tree.problems.empty()) {
      for (const auto& p : tree.problems) std::cerr << p << '\n';
      throw ExitError(tree.exit_code, std::to_string(tree.problems.size()) + " problem(s); nothing was mounted");
    }
    install(std::move(tree), phases);
    config_text_ = settings_.config_text;
    ::malloc_trim(0);  // building the tree's temporaries are gone: RSS tracks the live tree
    phases.mark("trim");
    spdlog::info("build (start): {}", phases.summary());
    start_metrics();   // before the mount: a metrics file that cannot be written stops the start
    ensure_mountpoint(settings_.mountpoint);
    spdlog::info("{}; asked for: passthrough {}, io_uring {}", fs::libfuse_text(),
                 settings_.kernel_paths.passthrough ? "on" : "off", settings_.kernel_paths.io_uring ? "on" : "off");
    try {
      fs::Session session(view_, settings_.mountpoint);
      return serve(session, ready_fd);
    } catch (const fs::MountError& e) {
      throw ExitError(exit_code::mount_failed, e.what());
    }
  }

 private:
  int serve(fs::Session& session, int ready_fd) {
    publish("ok");
    quota_status_.emplace(view_.quotas(), settings_.state_dir);
    std::vector<std::string> watched{settings_.state_dir + "/authorized_keys"};
    std::filesystem::create_directories(watched[0]);
    if (!settings_.config_file.empty()) watched.push_back(settings_.config_file);
    if (!settings_.authorized_keys_dir.empty()) watched.push_back(settings_.authorized_keys_dir);
    Reloader reloader([this] { reload(); }, watched);
    spdlog::info("serving {} user(s) at {}", users_.size(), settings_.mountpoint);
    const int rc = session.run(settings_.threads, [&] {
      reloader.start();
      const char ready = 'R';
      [[maybe_unused]] auto n = ::write(ready_fd, &ready, 1);
      ::close(ready_fd);
    });
    reloader.stop();
    quota_status_.reset();
    metrics_.reset();
    remove_runtime(settings_.state_dir);
    spdlog::info("unmounting {}", settings_.mountpoint);
    return rc == 0 ? exit_code::ok : exit_code::failure;
  }

  // With a sink configured, the view's events go to the spool, where the
  // supervisor's couriers pick them up; without, the view makes none.
  void start_event_spool() {
    if (settings_.events.sinks() == 0) return;
    events_.emplace(settings_.state_dir, SpoolLimits{.spool_bytes = settings_.events.spool_limit});
    view_.set_event_log(&*events_);
  }

  void start_metrics() {
    if (settings_.metrics_fd < 0 && settings_.metrics_file.empty()) return;
    counts_.started = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const SupervisorCounts* supervisor = progress_ ? &progress_->supervisor() : nullptr;
    metrics_.emplace(fs::UniqueFd(settings_.metrics_fd), settings_.metrics_file,
                     [this, supervisor] {
                       return render_metrics(view_, counts_, supervisor, events_ ? &*events_ : nullptr);
                     });
  }

  void install(ServedTree tree, BuildPhases& phases) {
    if (tree.files_only && !fs::refresh_files(tree.files, view_)) {  // the files' shape changed
      tree = build_tree(parse_invocation(settings_.args).settings, context_, keys_, view_, phases);
    }
    if (!tree.problems.empty()) throw std::runtime_error(tree.problems.front());
    // passwd and group depend on the users alone (sshd's account is fixed).
    const bool accounts_changed = !accounts_written_ || !same_users(users_, tree.plan);
    if (accounts_changed) {
      users_ = users_of(tree.plan);
      served_users_ = mapping::render_users(users_);
    }
    if (settings_.run_sshd && accounts_changed) {
      // sshd's /etc links to these (sshd/private_etc.hpp): each is replaced whole.
      write_sshd_etc(sshd_etc_path(settings_.state_dir), tree.passwd, tree.group);
      phases.mark("etc-write");
    }
    if (!tree.files_only) {
      view_.install(std::move(tree.layout));
      rebuilt_ = true;
    } else {
      view_.rescans().count_now();  // a reload counts the limited folders, rebuilt or not
    }
    phases.mark("install");
    accounts_written_ = true;
  }

  // Re-reads the configuration exactly as at start; on any problem the
  // served tree stays as it was and the problem is logged. The same config
  // bytes (the command line and environment cannot change) mean the same
  // tree: only the authorized keys are looked at again.
  void reload() {
    std::lock_guard lock(reload_mu_);
    ++reloads_;
    try {
      const auto start = std::chrono::steady_clock::now();
      BuildPhases phases;
      rebuilt_ = false;
      const std::optional<std::string> text = current_config_text();
      phases.mark("read");
      if (text && *text == config_text_) {
        refresh_keys(phases);
        view_.rescans().count_now();  // a reload counts the limited folders, changed or not
        phases.mark("quotas");
      } else {
        Settings fresh = parse_invocation(settings_.args).settings;
        phases.mark("parse");
        ServedTree tree = build_tree(fresh, context_, keys_, view_, phases, true);
        if (!tree.problems.empty()) {
          for (const auto& p : tree.problems) spdlog::error("reload refused: {}", p);
          counts_.reloaded(false);
          publish(tree.problems.front());
          return;
        }
        install(std::move(tree), phases);
        config_text_ = std::move(fresh.config_text);
        // The old tree is gone: give its memory back, so RSS tracks the live tree.
        if (rebuilt_) ::malloc_trim(0);
        phases.mark("trim");
      }
      spdlog::info("build (reload {}): {}", reloads_, phases.summary());
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      spdlog::info("reloaded: {} user(s) in {} ms", users_.size(), ms.count());
      counts_.reloaded(true);
      publish("ok");
    } catch (const std::exception& e) {
      spdlog::error("reload refused: {}", e.what());
      counts_.reloaded(false);
      publish(e.what());
    }
  }

  // The config file's bytes now; nullopt when it cannot be read (the full
  // path then reports why). Without --config there is nothing to re-read.
  std::optional<std::string> current_config_text() const {
    if (settings_.config_file.empty()) return std::string();
    std::ifstream in(settings_.config_file, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return std::move(text).str();
  }

  // An unchanged configuration: the served etc/ssh/authorized_keys/<user>
  // files of the users whose key files changed get their new text.
  void refresh_keys(BuildPhases& phases) {
    const std::vector<std::string> changed = keys_.scan();
    phases.mark("keys");
    if (changed.empty()) return;
    const std::unordered_set<std::string> names(changed.begin(), changed.end());
    std::vector<fs::SyntheticFile> files;
    for (const mapping::User& u : users_)
      if (names.contains(u.name)) files.push_back(authorized_keys_file(u, keys_.text(u.name)));
    if (!fs::refresh_files(files, view_)) throw std::runtime_error("the served authorized keys are not where expected");
    phases.mark("refresh");
  }

  static bool same_users(const std::vector<mapping::User>& a, const mapping::Plan& b) {
    return std::equal(a.begin(), a.end(), b.users.begin(), b.users.end(),
                      [](const mapping::User& x, const mapping::UserPlan& y) { return x == y.user; });
  }

  static std::vector<mapping::User> users_of(const mapping::Plan& plan) {
    std::vector<mapping::User> users;
    users.reserve(plan.users.size());
    for (const mapping::UserPlan& u : plan.users) users.push_back(u.user);
    return users;
  }

  void publish(const std::string& last) {
    RuntimeState s;
    s.pid = ::getpid();
    s.reloads = reloads_;
    s.last_reload = last;
    s.mountpoint = settings_.mountpoint;
    s.users = served_users_;  // a refused reload keeps the old ones
    write_runtime(settings_.state_dir, s);
  }

  const Settings& settings_;
  std::optional<ProgressCounter> progress_;  // declared before view_: outlives it
  std::optional<SpoolWriter> events_;        // before view_ too: the view records into it
  fs::View view_;
  std::optional<QuotaStatus> quota_status_;  // after view_: stops before it goes
  WorkerCounts counts_;
  std::optional<MetricsService> metrics_;    // after view_ and counts_: stops before they go
  ServeContext context_;
  AuthorizedKeysCache keys_{settings_.state_dir, settings_.authorized_keys_dir};
  // The served users, in the order given (each user's whole plan is kept
  // by the view's layout only: fs::serves_plan).
  std::vector<mapping::User> users_;
  std::string config_text_;   // the config file's bytes the served tree was built from
  // users_ as `--users` takes them, for the runtime file: `gateway keys` run
  // without users takes them from there.
  std::string served_users_;
  bool accounts_written_ = false;
  bool rebuilt_ = false;      // the last install replaced the layout
  std::mutex reload_mu_;  // one reload at a time
  unsigned reloads_ = 0;
};

}  // namespace

int run_worker(const Settings& settings, int ready_fd, fs::AuditTrail audit) {
  if (const int e = fs::drop_supplementary_groups())
    throw ExitError(exit_code::failure, std::string("cannot drop supplementary groups: ") + std::strerror(e));
  Worker worker(settings, std::move(audit));
  return worker.run(ready_fd);
}

}  // namespace gw::gateway
