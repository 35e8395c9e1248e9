// Everything `serve` refuses before it starts anything, judged in one place:
// `check` reports it with the exit code serve would give, and `serve` stops
// on it before it generates host keys, binds the mountpoint or starts the
// worker. Reads the disk, writes nothing.
#pragma once

#include "gateway/options/options.hpp"
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
  mapping::Plan plan;  // the plan, when the configuration is valid
  bool ok() const { return problems.empty(); }
};

Preflight preflight(const Settings& settings);

}  // namespace gw::gateway
