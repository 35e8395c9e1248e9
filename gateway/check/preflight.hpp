// Everything `serve` refuses before it starts anything, judged in one place:
// `check` reports it with the exit code serve would give, and `serve` stops
// on it before it generates host keys, binds the mountpoint or starts the
// worker. Reads the disk, writes nothing.
#pragma once

#include <optional>

#include "gateway/options/options.hpp"
#include "gateway/sshd/config.hpp"
#include "mapping/plan.hpp"
#include "mapping/problem.hpp"

namespace gw::gateway {

struct Preflight {
  // One line each (Problem::line()). Configuration problems first: users and
  // rules, sshd's facts and account, the view's path (exit 2); only when there
  // are none, the backing folders, opened and judged as the view opens them
  // (exit 3).
  mapping::Problems problems;
  int exit_code = 0;   // exit_code::ok, usage or backing_unusable
  std::optional<OpensshVersion> openssh;  // sshd's version, once found
  mapping::Plan plan;  // the plan, when the configuration is valid and the folders were judged
  bool ok() const { return problems.empty(); }
};

// The backing folders are judged (`all`) or left to the one who opens them
// anyway (`configuration_only`: serve's worker, which opens each folder once
// while building the view and refuses the same way, exit 3).
enum class Judge { all, configuration_only };
Preflight preflight(const Settings& settings, Judge judge = Judge::all);

}  // namespace gw::gateway
