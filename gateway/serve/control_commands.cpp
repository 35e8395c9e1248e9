#include "gateway/serve/control_commands.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "gateway/events/spool_dir.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/json_writer.hpp"
#include "gateway/quota_text.hpp"
#include "gateway/serve/quota_usage.hpp"
#include "gateway/sshd/private_etc.hpp"
#include "gateway/serve/status_file.hpp"
#include "mapping/parse.hpp"
#include "mapping/plan.hpp"
#include "mapping/problem.hpp"
#include "mapping/values.hpp"

namespace gw::gateway {
namespace {

bool alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

// Whoever else could write in the state folder could name users there.
bool private_folder(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() &&
         (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

bool mounted(const std::string& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == 0x65735546;  // FUSE
}

RuntimeState running_gateway(const Settings& s) {
  const auto state = read_runtime(s.state_dir);
  if (!state || !alive(state->pid))
    throw ExitError(exit_code::failure, "no gateway is serving with state folder " + s.state_dir);
  return *state;
}

struct Live {
  std::optional<RuntimeState> state;
  bool running = false;
  bool view_mounted = false;
  bool sshd_running = false;
  pid_t sshd_pid = 0;         // host mode only
  std::string sshd_problem;   // host mode: why sshd is unhealthy, "" when it is not
  bool sshd_managed() const { return sshd_pid > 0; }
  bool sshd_healthy() const { return sshd_managed() && sshd_problem.empty(); }
};

Live look(const Settings& s) {
  Live l;
  l.state = read_runtime(s.state_dir);
  l.running = l.state && alive(l.state->pid);
  const std::string& mountpoint = l.state ? l.state->mountpoint : s.mountpoint;
  // Also through the worker's own root: a service manager may give the
  // gateway a mount namespace of its own (systemd's ProtectSystem=), whose
  // mounts this process does not see.
  l.view_mounted = mounted(mountpoint) ||
                   (l.running && mounted("/proc/" + std::to_string(l.state->pid) + "/root" + mountpoint));
  l.sshd_pid = read_sshd_pid(s.state_dir);
  l.sshd_running = alive(l.sshd_pid);
  if (l.sshd_managed())
    l.sshd_problem = l.sshd_running ? sshd_etc_problem(l.sshd_pid, sshd_etc_path(s.state_dir)) : "not running";
  return l;
}

void amount(JsonWriter& j, std::string_view name, std::optional<std::uint64_t> value) {
  j.key(name);
  if (value) j.number(static_cast<std::int64_t>(*value));
  else j.null();
}

// Percent of a limit, once there is a count to compare with it.
std::optional<std::uint64_t> percent_of(const FolderUsage& f, std::uint64_t used, std::optional<std::uint64_t> limit) {
  if (!f.counted || !limit) return std::nullopt;
  return percent(used, *limit);
}

// The worker's record as it wrote it, with the percentages added; bytes and
// files are null until the folder's first count ended.
void quotas_json(JsonWriter& j, const QuotaUsage& q) {
  j.field("quota_problem", q.problem);
  j.key("quotas").begin_array();
  for (const FolderUsage& f : q.folders) {
    j.begin_object().field("folder", f.folder).key("mappings").begin_array();
    for (const std::string& m : f.mappings) j.string(m);
    j.end_array();
    amount(j, "bytes", f.counted ? std::optional(f.bytes) : std::nullopt);
    amount(j, "bytes_limit", f.bytes_limit);
    amount(j, "bytes_percent", percent_of(f, f.bytes, f.bytes_limit));
    amount(j, "files", f.counted ? std::optional(f.files) : std::nullopt);
    amount(j, "files_limit", f.files_limit);
    amount(j, "files_percent", percent_of(f, f.files, f.files_limit));
    j.field("counted", f.counted).field("counted_at", f.counted_at).end_object();
  }
  j.end_array();
}

// "quota thttpd_files/site (ryan:web): bytes 1.2M of 5G (24%), files 4",
// or "counting" with the limits until the first count ended. Names are
// shown printable: the file is the worker's, but a terminal is no place to
// trust bytes from a file.
void quotas_text(const QuotaUsage& q, bool running, std::ostream& out) {
  if (!running) out << "quotas: as last recorded by a gateway that is not running\n";
  if (!q.problem.empty()) out << "quotas: " << mapping::excerpt(q.problem) << '\n';
  for (const FolderUsage& f : q.folders) {
    std::string mappings;
    for (const std::string& m : f.mappings) mappings += (mappings.empty() ? "" : ", ") + mapping::excerpt(m);
    out << "quota " << mapping::excerpt(f.folder) << " (" << mappings << "): ";
    if (f.counted) {
      out << "bytes " << bytes_usage(f.bytes, f.bytes_limit) << ", files " << files_usage(f.files, f.files_limit) << '\n';
    } else {
      mapping::Limit limit;
      limit.bytes = f.bytes_limit;
      limit.files = f.files_limit;
      out << "counting; limit " << mapping::render_limit(limit) << '\n';
    }
  }
}

void status_json(const Settings& s, const Live& l, const mapping::Plan& plan, const std::optional<QuotaUsage>& q,
                 std::ostream& out) {
  JsonWriter j(out);
  j.begin_object().field("running", l.running).field("pid", l.running ? l.state->pid : 0);
  j.field("mountpoint", s.mountpoint).field("mounted", l.view_mounted);
  j.field("sshd_managed", l.sshd_managed()).field("sshd_running", l.sshd_running).field("sshd_pid", l.sshd_pid);
  j.field("sshd_healthy", l.sshd_healthy()).field("sshd_problem", l.sshd_problem);
  j.field("reloads", l.state ? l.state->reloads : 0u).field("last_reload", l.state ? l.state->last_reload : "");
  j.key("users").begin_array();
  for (const auto& u : plan.users) {
    j.begin_object().field("name", u.user.name).field("uid", u.user.uid).field("keys", count_keys(s.state_dir, s.authorized_keys_dir, u.user.name));
    j.key("mounts").begin_array();
    for (const auto& m : u.mounts)
      j.begin_object().field("name", m.name).field("backing", m.backing)
          .field("access", m.access == mapping::Access::read_only ? "ro" : "rw").end_object();
    j.end_array().end_object();
  }
  j.end_array();
  if (q) quotas_json(j, *q);
  j.key("events").begin_array();
  for (const SinkBacklog& b : spool_backlog(s.state_dir))
    j.begin_object().field("sink", b.sink).field("pending", b.pending).end_object();
  j.end_array();
  j.end_object();
  j.finish();
}

void status_text(const Settings& s, const Live& l, const mapping::Plan& plan, const std::optional<QuotaUsage>& q,
                 std::ostream& out) {
  out << "gateway: " << (l.running ? "running (pid " + std::to_string(l.state->pid) + ")" : "not running") << '\n'
      << "view: " << s.mountpoint << (l.view_mounted ? " (mounted)" : " (not mounted)") << '\n';
  if (l.sshd_healthy()) out << "sshd: running (host mode), with the gateway's accounts\n";
  else if (l.sshd_managed()) out << "sshd: unhealthy (host mode): " << l.sshd_problem << '\n';
  else out << "sshd: not managed by the gateway\n";
  if (l.state) out << "reloads: " << l.state->reloads << ", last: " << l.state->last_reload << '\n';
  for (const auto& u : plan.users) {
    out << "user " << u.user.name << " (uid " << u.user.uid << "): " << count_keys(s.state_dir, s.authorized_keys_dir, u.user.name)
        << " key(s), home " << u.home_backing << '\n';
    for (const auto& m : u.mounts)
      out << "  " << m.name << " -> " << m.backing << (m.access == mapping::Access::read_only ? " (ro)" : " (rw)") << '\n';
  }
  if (q) quotas_text(*q, l.running, out);
  for (const SinkBacklog& b : spool_backlog(s.state_dir))
    out << "events for " << mapping::excerpt(b.sink) << ": " << b.pending << " pending\n";
}

}  // namespace

int run_reload(const Settings& s, std::ostream& out) {
  const RuntimeState before = running_gateway(s);
  if (::kill(before.pid, SIGHUP) != 0) throw ExitError(exit_code::failure, "cannot signal the gateway");
  using namespace std::chrono;
  const auto deadline = steady_clock::now() + seconds(5);
  while (steady_clock::now() < deadline) {
    const auto now = read_runtime(s.state_dir);
    if (now && now->reloads > before.reloads) {
      out << "reload: " << now->last_reload << '\n';
      return now->last_reload == "ok" ? exit_code::ok : exit_code::failure;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  throw ExitError(exit_code::failure, "the gateway did not report the reload within 5 s");
}

int run_status(const Settings& s, std::ostream& out) {
  const mapping::Parsed parsed = mapping::parse(s.input);
  const mapping::Plan plan = mapping::make_plan(parsed.model, s.paths, s.defaults);
  const Live l = look(s);
  // Written by the worker while limits are served; none: no quota section.
  const std::optional<QuotaUsage> quotas = read_quota_usage(s.state_dir);
  if (s.format == Format::json) status_json(s, l, plan, quotas, out);
  else status_text(s, l, plan, quotas, out);
  // A managed sshd that is down or resolves the host's accounts fails every
  // login: as unhealthy as a view that is not mounted.
  const bool healthy = l.running && l.view_mounted && (!l.sshd_managed() || l.sshd_healthy());
  return healthy ? exit_code::ok : exit_code::failure;
}

std::vector<mapping::Item> served_users(const std::string& state_dir) {
  const std::string none = "no users given (--users, SFTP_USERS or --config) and ";
  const auto state = read_runtime(state_dir);
  if (!state || !alive(state->pid)) throw UsageError(none + "no gateway is serving with state folder " + state_dir);
  if (!private_folder(state_dir)) {
    throw UsageError(none + "the state folder " + state_dir + " is not private to uid " + std::to_string(::geteuid()) +
                     ": the users its gateway published there are not trusted");
  }
  if (state->users.empty()) {
    throw UsageError(none + "the gateway serving with state folder " + state_dir + " (pid " +
                     std::to_string(state->pid) + ") publishes no users (a gateway older than this command?)");
  }
  return mapping::split_list(state->users, state_dir + "/runtime users");
}

}  // namespace gw::gateway
