// From settings to the tree the view serves: the validated plan, the etc/
// files for sshd, and the layout built over the real backing folders. Used at
// start and on every reload, so both take exactly the same path.
#pragma once

#include <string>
#include <vector>

#include "fs/layout.hpp"
#include "gateway/keys/host_keys.hpp"
#include "gateway/keys/key_cache.hpp"
#include "gateway/serve/build_phases.hpp"
#include "gateway/options/options.hpp"
#include "gateway/sshd/config.hpp"

namespace gw::gateway {

struct ServedTree {
  std::vector<mapping::User> users;   // in the order given (their plans went into the layout)
  fs::Layout layout;
  std::vector<fs::SyntheticFile> files;  // etc/, as rendered
  bool files_only = false;  // the plan did not change: only the etc/ files are new
  std::string passwd, group;          // as rendered into etc/
  std::vector<int> user_lines;        // the config file's line of each user (0: not from the file)
  std::vector<std::string> problems;  // one line each; with exit_code
  int exit_code = 0;                  // usage (2) or backing_unusable (3) when problems
};

// What sshd_config depends on besides the configuration: the OpenSSH version
// sshd runs and sshd's privilege separation account. Only asked, never
// written, so `check` asks the same. Throws UsageError naming the option.
struct SshdFacts {
  OpensshVersion openssh;
  unsigned privsep_uid = 0;
  unsigned privsep_gid = 0;
};
SshdFacts sshd_facts(const Settings& settings);

// A user whose uid is sshd's privilege separation user's, one problem each:
// sshd would run its unprivileged children as that user.
mapping::Problems privsep_problems(const std::vector<mapping::User>& users, unsigned privsep_uid);

// What stays fixed for the life of the process.
struct ServeContext {
  std::vector<HostKey> host_keys;
  OpensshVersion openssh;
  unsigned privsep_uid = 0;
  unsigned privsep_gid = 0;
};

// The sshd facts, then the host keys (generated on first start: seconds for
// RSA 4096, so serve calls this only for a configuration it will serve).
ServeContext make_context(const Settings& settings);
// On a reload (`reload`), a plan the view serves already skips rebuilding
// the tree: only the etc/ files are rendered (keys may have changed). `keys`
// is scanned here; each step's time goes to `phases`. The settings' users
// and rules are forgotten once parsed (forget_items), and the rules once
// planned: with 10,000 users they are megabytes, and the layout built next
// is the height of a start.
ServedTree build_tree(Settings& settings, const ServeContext& context, AuthorizedKeysCache& keys,
                      fs::View& view, BuildPhases& phases, bool reload = false);

}  // namespace gw::gateway
