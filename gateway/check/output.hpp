// The two renderings of a check report: a table per user for people, a JSON
// document for tools. Both carry the same content.
#pragma once

#include <ostream>

#include "gateway/check/report.hpp"
#include "mapping/problem.hpp"

namespace gw::gateway {

void print_text(const CheckReport& report, std::ostream& out);
void print_json(const CheckReport& report, std::ostream& out);

// {"ok": false, "problems": [...]}: the JSON form of a rejected configuration
// (the problems also go to stderr, one line each, in both formats).
void print_problems_json(const mapping::Problems& problems, std::ostream& out);

}  // namespace gw::gateway
