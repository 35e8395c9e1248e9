#include "gateway/check.hpp"

#include <spdlog/spdlog.h>

#include "gateway/check_output.hpp"
#include "gateway/check_report.hpp"
#include "gateway/exit_codes.hpp"
#include "mapping/parse.hpp"
#include "mapping/plan.hpp"

namespace gw::gateway {

int run_check(const Settings& settings, std::ostream& out, std::ostream& err) {
  spdlog::debug("check: {} user items, {} rule items", settings.input.users.size(), settings.input.rules.size());
  const mapping::Parsed parsed = mapping::parse(settings.input);
  if (!parsed.ok()) {
    for (const mapping::Problem& problem : parsed.problems) err << problem.line() << '\n';
    if (settings.format == Format::json) print_problems_json(parsed.problems, out);
    return exit_code::usage;
  }
  const mapping::Plan plan = mapping::make_plan(parsed.model, settings.paths);
  const CheckReport report = gather_report(plan, settings.paths);  // points into plan
  if (settings.format == Format::json) print_json(report, out);
  else print_text(report, out);
  return exit_code::ok;
}

}  // namespace gw::gateway
