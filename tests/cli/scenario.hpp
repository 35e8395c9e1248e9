// The seed's own example, laid out on temp folders: ryan (54321) and gary
// (1001), volumes thttpd_files (owned by 54321, as thttpd's files are) and
// music_stuff (owned by 1001). Building it chowns, so it needs root.
#pragma once

#include <string>
#include <vector>

#include "cli_support.hpp"

namespace gw::test {

struct SeedLayout {
  TempDir dir;
  std::string data;
  std::string volumes;

  SeedLayout();
  // `check` with the seed's SFTP_USERS / SFTP_VOLUMES plus extra env.
  RunResult check(const Env& env, const std::vector<std::string>& extra_args = {}) const;
  RunResult check_seed(const std::vector<std::string>& extra_args = {}) const;
};

inline const Env seed_env{{"SFTP_USERS", "ryan:54321,gary:1001"},
                          {"SFTP_VOLUMES", "thttpd_files:ryan:web,music_stuff:gary:music"}};

// The lines between "user <name> (" and the next blank line.
std::string user_section(const std::string& out, const std::string& user);
// The words of the table row whose path is `path`, in one user's section.
std::vector<std::string> row(const std::string& section, const std::string& path);
std::vector<std::string> warnings(const std::string& out);

}  // namespace gw::test
