#include "gateway/serve/served_tree.hpp"

#include <pwd.h>

#include <array>
#include <cstdio>
#include <memory>

#include "gateway/sshd/accounts.hpp"
#include "gateway/sshd/etc_tree.hpp"
#include "gateway/exit_codes.hpp"

namespace gw::gateway {
namespace {

std::string command_output(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return {};
  std::string out;
  std::array<char, 256> buf{};
  while (std::fgets(buf.data(), buf.size(), pipe.get())) out += buf.data();
  return out;
}

OpensshVersion openssh_version(const Settings& s) {
  OpensshVersion v;
  if (s.openssh_version != "auto") {
    if (!parse_openssh_version(s.openssh_version, &v))
      throw UsageError("openssh-version: '" + s.openssh_version + "' is not a version like 9.2");
    return v;
  }
  // The supervisor asked already: a worker (and every restart) need not.
  if (!s.sshd_version_found.empty() && parse_openssh_version(s.sshd_version_found, &v)) return v;
  // `sshd -V` prints e.g. "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.x".
  if (!parse_openssh_version(command_output(s.sshd_binary + " -V 2>&1"), &v))
    throw UsageError("openssh-version: cannot ask " + s.sshd_binary + " for its version; pass --openssh-version X.Y");
  return v;
}

}  // namespace

SshdFacts sshd_facts(const Settings& s) {
  SshdFacts f;
  f.openssh = openssh_version(s);
  if (s.sshd_uid >= 0) {
    f.privsep_uid = static_cast<unsigned>(s.sshd_uid);
    f.privsep_gid = 65534;
  } else if (const struct passwd* pw = ::getpwnam("sshd")) {
    f.privsep_uid = pw->pw_uid;
    f.privsep_gid = pw->pw_gid;
  } else {
    throw UsageError("sshd-uid: there is no local 'sshd' account; pass --sshd-uid UID");
  }
  return f;
}

mapping::Problems privsep_problems(const std::vector<mapping::User>& users, unsigned privsep_uid) {
  mapping::Problems problems;
  for (const auto& u : users)
    if (u.uid == privsep_uid)
      problems.push_back({"user " + u.name, "",
                          "uid " + std::to_string(u.uid) + " is sshd's privilege separation user; choose another uid"});
  return problems;
}

ServeContext make_context(const Settings& s) {
  const SshdFacts facts = sshd_facts(s);
  ServeContext c;
  c.openssh = facts.openssh;
  c.privsep_uid = facts.privsep_uid;
  c.privsep_gid = facts.privsep_gid;
  c.host_keys = s.host_keys_dir.empty() ? ensure_host_keys(s.state_dir) : load_host_keys(s.host_keys_dir);
  return c;
}

ServedTree build_tree(Settings& s, const ServeContext& c, AuthorizedKeysCache& keys, fs::View& view,
                      BuildPhases& phases, bool reload) {
  ServedTree t;
  mapping::Parsed parsed = mapping::parse(s.input);
  // Without a problem every item made it into the model: they line up.
  if (parsed.ok()) {
    t.user_lines.reserve(s.input.users.size());
    for (const mapping::Item& item : s.input.users) t.user_lines.push_back(item.line);
  }
  forget_items(s);
  if (!parsed.ok()) {
    for (const auto& p : parsed.problems) t.problems.push_back(p.line());
    t.exit_code = exit_code::usage;
    return t;
  }
  for (const auto& p : privsep_problems(parsed.model.users, c.privsep_uid)) t.problems.push_back(p.line());
  if (!t.problems.empty()) {
    t.exit_code = exit_code::usage;
    return t;
  }
  phases.mark("validate");
  mapping::Plan plan = mapping::make_plan(parsed.model, s.paths, s.defaults);
  std::vector<mapping::Rule>().swap(parsed.model.rules);  // planned
  phases.mark("plan");
  keys.scan();
  phases.mark("keys");
  EtcInput etc;
  etc.sshd.view = s.sshd_view.empty() ? s.mountpoint : s.sshd_view;
  etc.sshd.listen = s.listen;
  etc.sshd.port = s.port;
  etc.sshd.version = c.openssh;
  etc.host_keys = c.host_keys;
  etc.users = &parsed.model.users;
  etc.keys = &keys;
  const PrivsepAccount privsep{c.privsep_uid, c.privsep_gid};
  t.passwd = render_passwd(parsed.model.users, privsep);
  t.group = render_group(parsed.model.users, privsep);
  etc.passwd = t.passwd;
  etc.group = t.group;
  t.files = render_etc(etc);
  t.users = std::move(parsed.model.users);
  phases.mark("etc");
  if (reload && fs::serves_plan(view, plan)) {
    t.files_only = true;
    return t;
  }
  fs::LayoutResult built = fs::build_layout(std::move(plan), t.files, view);
  phases.mark("layout");
  if (!built.ok()) {
    t.problems = std::move(built.problems);
    t.exit_code = exit_code::backing_unusable;
    return t;
  }
  t.layout = std::move(built.layout);
  return t;
}

}  // namespace gw::gateway
