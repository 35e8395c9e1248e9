#include "gateway/status_file.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "gateway/json_writer.hpp"

namespace gw::gateway {

std::string status_path(const std::string& state_dir) { return state_dir + "/status.json"; }
std::string pid_path(const std::string& state_dir) { return state_dir + "/gateway.pid"; }

unsigned count_keys(const std::string& state_dir, const std::string& user) {
  std::ifstream in(state_dir + "/authorized_keys/" + user);
  unsigned n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t") != std::string::npos && line[line.find_first_not_of(" \t")] != '#') ++n;
  return n;
}

namespace {

void write_users(JsonWriter& j, const StatusSnapshot& s) {
  j.key("users").begin_array();
  for (const auto& u : s.plan->users) {
    j.begin_object().field("name", u.user.name).field("uid", u.user.uid).field("gid", u.user.gid);
    j.field("home", u.home_backing).field("keys", count_keys(s.state_dir, u.user.name));
    j.key("mounts").begin_array();
    for (const auto& m : u.mounts) {
      j.begin_object().field("name", m.name).field("backing", m.backing);
      j.field("access", m.access == mapping::Access::read_only ? "ro" : "rw").end_object();
    }
    j.end_array().end_object();
  }
  j.end_array();
}

void replace_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".new";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
  }
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace

void write_status(const StatusSnapshot& s) {
  std::ostringstream o;
  JsonWriter j(o);
  j.begin_object().field("pid", s.pid).field("mountpoint", s.mountpoint).field("reloads", s.reloads);
  j.field("last_reload", s.last_reload);
  j.key("sshd").begin_object().field("managed", s.sshd_managed).field("pid", s.sshd_pid).field("port", s.port);
  j.end_object();
  write_users(j, s);
  j.end_object();
  j.finish();
  replace_file(status_path(s.state_dir), o.str());
}

void write_pid_file(const std::string& state_dir) { replace_file(pid_path(state_dir), std::to_string(::getpid()) + "\n"); }

void remove_runtime_files(const std::string& state_dir) {
  std::remove(pid_path(state_dir).c_str());
  std::remove(status_path(state_dir).c_str());
}

}  // namespace gw::gateway
