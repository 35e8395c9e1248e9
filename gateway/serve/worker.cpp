#include "gateway/serve/worker.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <chrono>
#include <cstring>
#include <limits>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <unordered_set>

#include "fs/identity.hpp"
#include "fs/layout.hpp"
#include "fs/session.hpp"
#include "fs/unique_fd.hpp"
#include "fs/layout_edit.hpp"
#include "gateway/events/spool_writer.hpp"
#include "gateway/options/config_change.hpp"
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
  Worker(Settings& s, fs::AuditTrail audit)
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
    config_text_ = std::move(settings_.config_text);
    forget_lists(settings_);  // a reload reads the configuration again
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
      Settings again = parse_invocation(settings_.args).settings;
      tree = build_tree(again, context_, keys_, view_, phases);
    }
    if (!tree.problems.empty()) throw std::runtime_error(tree.problems.front());
    // passwd and group depend on the users alone (sshd's account is fixed).
    const bool accounts_changed = !accounts_written_ || users_ != tree.users;
    if (accounts_changed) {
      users_ = std::move(tree.users);
      served_users_ = mapping::render_users(users_);
    }
    user_lines_ = std::move(tree.user_lines);
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
    keys_.served();  // every user's keys were rendered from the cache
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
      } else if (text && apply_lists_change(*text, phases)) {
        config_text_ = std::move(*text);
        view_.rescans().count_now();
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
      // Timed before the summary, whose heap figure walks the whole heap.
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      spdlog::info("build (reload {}): {}", reloads_, phases.summary());
      spdlog::info("reloaded: {} user(s) in {} ms", users_.size(), ms.count());
      counts_.reloaded(true);
      publish("ok");
    } catch (const std::exception& e) {
      spdlog::error("reload refused: {}", e.what());
      counts_.reloaded(false);
      publish(e.what());
    }
  }

  // Only `users` and `map` lines changed: just the users they name are
  // checked and their trees swapped in (fs/layout_edit.hpp), so the work
  // follows the change, not the number of users. False when the change
  // needs the whole configuration (another key changed, any problem, a
  // limit): nothing was changed, and the caller reads it all as at start.
  bool apply_lists_change(const std::string& text, BuildPhases& phases) {
    if (!settings_.lists_from_file || user_lines_.size() != users_.size()) return false;
    const std::optional<ListsChange> change =
        lists_change(std::filesystem::path(settings_.config_file).filename().string(), config_text_, text);
    phases.mark("diff");
    const std::shared_ptr<const fs::UserTrees> served = view_.users();
    if (!change || !served) return false;
    const mapping::Served now{[&](std::string_view name) -> const mapping::UserPlan* {
                                const auto it = served->find(std::string(name));
                                return it == served->end() ? nullptr : &it->second->plan;
                              },
                              &users_};
    const std::optional<mapping::PlanChange> plan =
        mapping::apply_change(change->items, now, settings_.paths, settings_.defaults);
    if (!plan || !privsep_problems(plan->added_users, context_.privsep_uid).empty()) return false;
    phases.mark("validate");
    std::vector<mapping::User> users;
    std::vector<int> lines;
    reorder_users(*change, plan->added_users, users_, user_lines_, &users, &lines);
    const bool accounts_changed = users != users_;
    phases.mark("users");

    keys_.scan();
    phases.mark("keys");
    fs::UsersEdit edit;
    edit.put = plan->put;
    edit.removed = plan->removed;
    std::unordered_set<std::string> keyed;
    for (const mapping::UserPlan& up : plan->put) {
      edit.files.push_back(authorized_keys_file(up.user, keys_.text(up.user.name)));
      keyed.insert(up.user.name);
    }
    for (const std::string& name : plan->removed) edit.removed_files.push_back(authorized_keys_path(name));
    const std::unordered_set<std::string> gone(plan->removed.begin(), plan->removed.end());
    for (const std::string& name : keys_.unserved())
      if (!keyed.count(name) && !gone.count(name))
        if (const auto it = served->find(name); it != served->end())
          edit.files.push_back(authorized_keys_file(it->second->plan.user, keys_.text(name)));
    std::string passwd, group;
    if (accounts_changed) {
      const PrivsepAccount privsep{context_.privsep_uid, context_.privsep_gid};
      passwd = render_passwd(users, privsep);
      group = render_group(users, privsep);
      edit.files.push_back(passwd_file(passwd));
      edit.files.push_back(group_file(group));
    }
    phases.mark("etc");
    if (!fs::edit_layout(view_, edit)) return false;
    keys_.served();
    phases.mark("edit");
    users_ = std::move(users);
    user_lines_ = std::move(lines);
    if (accounts_changed) {
      served_users_ = mapping::render_users(users_);
      if (settings_.run_sshd) write_sshd_etc(sshd_etc_path(settings_.state_dir), passwd, group);
      phases.mark("etc-write");
    }
    spdlog::info("reload changed {} user(s) and removed {}, the others untouched", plan->put.size(),
                 plan->removed.size());
    return true;
  }

  // The users as a whole build would list them, in the file's order: the
  // users of lines that left go, the others take their lines' new numbers,
  // and the new ones go where their lines are.
  static void reorder_users(const ListsChange& change, const std::vector<mapping::User>& added,
                            const std::vector<mapping::User>& users, const std::vector<int>& lines,
                            std::vector<mapping::User>* next_users, std::vector<int>* next_line_numbers) {
    std::vector<mapping::User>& next = *next_users;
    std::vector<int>& next_lines = *next_line_numbers;
    next.reserve(users.size() + added.size());
    next_lines.reserve(users.size() + added.size());
    std::size_t a = 0;
    const auto add_until = [&](int line) {  // the new users on lines before `line`
      for (; a < added.size() && change.items.added_users[a].line < line; ++a) {
        next.push_back(added[a]);
        next_lines.push_back(change.items.added_users[a].line);
      }
    };
    for (std::size_t i = 0; i < users.size(); ++i) {
      const int now = change.line_now(lines[i]);
      if (now == 0) continue;  // its line left
      add_until(now);
      next.push_back(users[i]);
      next_lines.push_back(now);
    }
    add_until(std::numeric_limits<int>::max());
  }

  // The config file's bytes now; nullopt when it cannot be read (the full
  // path then reports why). Without --config there is nothing to re-read.
  std::optional<std::string> current_config_text() const {
    if (settings_.config_file.empty()) return std::string();
    // One read of the size fstat gives (an ifstream copied 10 MB through a
    // stringstream at 100,000 users), then on to the end in case it grew.
    const fs::UniqueFd fd(::open(settings_.config_file.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) return std::nullopt;
    std::string text(static_cast<std::size_t>(st.st_size) + 1, '\0');
    std::size_t got = 0;
    for (;;) {
      if (got == text.size()) text.resize(text.size() * 2);
      const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::nullopt;
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    return text;
  }

  // An unchanged configuration: the served etc/ssh/authorized_keys/<user>
  // files of the users whose key files changed get their new text.
  void refresh_keys(BuildPhases& phases) {
    keys_.scan();
    phases.mark("keys");
    const std::unordered_set<std::string>& names = keys_.unserved();
    if (names.empty()) return;
    std::vector<fs::SyntheticFile> files;
    for (const mapping::User& u : users_)
      if (names.contains(u.name)) files.push_back(authorized_keys_file(u, keys_.text(u.name)));
    if (!fs::refresh_files(files, view_)) throw std::runtime_error("the served authorized keys are not where expected");
    keys_.served();
    phases.mark("refresh");
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

  Settings& settings_;  // its lists forgotten once built
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
  std::vector<int> user_lines_;  // the config file's line of each of users_ (sorted)
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

int run_worker(Settings& settings, int ready_fd, fs::AuditTrail audit) {
  if (const int e = fs::drop_supplementary_groups())
    throw ExitError(exit_code::failure, std::string("cannot drop supplementary groups: ") + std::strerror(e));
  Worker worker(settings, std::move(audit));
  return worker.run(ready_fd);
}

}  // namespace gw::gateway
