#include "gateway/serve/status_file.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "gateway/keys/key_store.hpp"
#include "gateway/atomic_file.hpp"

namespace gw::gateway {
namespace {

std::string runtime_path(const std::string& state_dir) { return state_dir + "/runtime"; }

}  // namespace

unsigned count_keys(const std::string& state_dir, const std::string& provided_dir, const std::string& user) {
  const std::string text = render_authorized_keys(state_dir, provided_dir, user);  // one line per key
  return static_cast<unsigned>(std::count(text.begin(), text.end(), '\n'));
}

void write_runtime(const std::string& state_dir, const RuntimeState& s) {
  std::ostringstream out;
  out << "pid=" << s.pid << "\nreloads=" << s.reloads
      << "\nlast_reload=" << s.last_reload << "\nmountpoint=" << s.mountpoint << "\n";
  out << "users=" << s.users << "\n";
  // Readers (`gateway status`, `gateway reload`) never see half a file. The
  // file is advisory: serving goes on when it cannot be written.
  try {
    replace_file(runtime_path(state_dir), out.str(), 0644, Sync::rename_only);  // rewritten at every start
  } catch (const std::exception& e) {
    spdlog::error("{}; `gateway status` and `gateway reload` may see an old state", e.what());
  }
}

std::optional<RuntimeState> read_runtime(const std::string& state_dir) {
  std::ifstream in(runtime_path(state_dir));
  if (!in) return std::nullopt;
  RuntimeState s;
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    try {
      if (key == "pid") s.pid = static_cast<pid_t>(std::stol(value));
      else if (key == "reloads") s.reloads = static_cast<unsigned>(std::stoul(value));
      else if (key == "last_reload") s.last_reload = value;
      else if (key == "mountpoint") s.mountpoint = value;
      else if (key == "users") s.users = value;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return s;
}

void remove_runtime(const std::string& state_dir) { std::remove(runtime_path(state_dir).c_str()); }

std::string sshd_pid_path(const std::string& state_dir) { return state_dir + "/sshd.pid"; }

pid_t read_sshd_pid(const std::string& state_dir) {
  std::ifstream in(sshd_pid_path(state_dir));
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

std::string sshd_etc_path(const std::string& state_dir) { return state_dir + "/sshd-etc"; }

void remove_sshd_pid(const std::string& state_dir) { std::remove(sshd_pid_path(state_dir).c_str()); }

}  // namespace gw::gateway
