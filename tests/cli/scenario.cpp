#include "scenario.hpp"

#include "support/prerequisite.hpp"

namespace gw::test {

SeedLayout::SeedLayout() {
  require_root();  // chown to uids other than our own
  require_sshd();  // check asks sshd's version and account, as serve does
  data = dir / "data";
  volumes = dir / "volumes";
  make_dir(data, 0755, 0, 0);
  make_dir(volumes, 0755, 0, 0);
  make_dir(volumes + "/thttpd_files", 0750, 54321, 54321);
  make_dir(volumes + "/music_stuff", 0775, 1001, 1001);
}

RunResult SeedLayout::check(const Env& env, const std::vector<std::string>& extra_args) const {
  std::vector<std::string> args{"check", "--data-dir", data, "--volumes-dir", volumes};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return run_gateway(args, env);
}

RunResult SeedLayout::check_seed(const std::vector<std::string>& extra_args) const {
  return check(seed_env, extra_args);
}

std::string user_section(const std::string& out, const std::string& user) {
  std::string section;
  bool inside = false;
  for (const std::string& line : lines(out)) {
    if (line.rfind("user " + user + " (", 0) == 0) inside = true;
    else if (inside && line.empty()) break;
    if (inside) section += line + "\n";
  }
  return section;
}

std::vector<std::string> row(const std::string& section, const std::string& path) {
  for (const std::string& line : lines(section)) {
    std::vector<std::string> w = words(line);
    if (!w.empty() && w.front() == path) return w;
  }
  return {};
}

std::vector<std::string> warnings(const std::string& out) {
  std::vector<std::string> found;
  for (const std::string& line : lines(out)) {
    if (line.rfind("warning: ", 0) == 0) found.push_back(line);
  }
  return found;
}

}  // namespace gw::test
