#include "gateway/check/check.hpp"

#include <spdlog/spdlog.h>

#include "gateway/check/output.hpp"
#include "gateway/check/report.hpp"
#include "gateway/sshd/chroot_parents.hpp"
#include "gateway/check/preflight.hpp"

namespace gw::gateway {

int run_check(const Settings& settings, std::ostream& out, std::ostream& err) {
  spdlog::debug("check: {} user items, {} rule items", settings.input.users.size(), settings.input.rules.size());
  // Exactly what serve would refuse, with the exit code serve would give.
  const Preflight pre = preflight(settings);
  if (!pre.ok()) {
    for (const mapping::Problem& problem : pre.problems) err << problem.line() << '\n';
    if (settings.format == Format::json) print_problems_json(pre.problems, out);
    return pre.exit_code;
  }
  CheckReport report = gather_report(pre.plan, settings.paths);  // points into pre.plan
  if (!sshd_view_is_local(settings)) {
    report.warnings.push_back(Warning{"sshd-view", "sshd sees the view at " + settings.sshd_view +
                                                       ", which this gateway cannot inspect: every folder above it "
                                                       "must be owned by root and writable by root only"});
  }
  if (settings.format == Format::json) print_json(report, out);
  else print_text(report, out);
  return pre.exit_code;
}

}  // namespace gw::gateway
