// What rule and user options have in common: the message for an unknown
// one, and the limit options both take.
#include "names.hpp"
#include "parse_items.hpp"
#include "values.hpp"

namespace gw::mapping::detail {

namespace {

// The problem line already quotes the whole item: a part of it is clipped.
std::string quoted(std::string_view text) { return "'" + clip(text, kQuotedPart) + "'"; }

}  // namespace

std::string option_list(std::span<const OptionName> known) {
  std::string list;
  for (const OptionName& option : known) list += (list.empty() ? "" : ", ") + std::string(option.shown);
  return list;
}

void report_unknown_option(std::string_view option, std::span<const OptionName> known, const Report& report) {
  const std::string valid = "; valid options: " + option_list(known);
  if (option.empty()) {
    report("empty option (a stray ':'?)" + valid);
    return;
  }
  std::vector<std::string> keys;
  for (const OptionName& name : known) keys.emplace_back(name.key);
  std::string message = "unknown option " + quoted(option);
  if (auto near = closest(option.substr(0, option.find('=')), keys)) {
    for (const OptionName& name : known) {
      if (name.key == *near) message += " (did you mean " + quoted(name.shown) + "?)";
    }
  }
  report(message + valid);
}

bool apply_limit_option(std::string_view option, Limit& limit, LimitSeen& seen, const Report& report) {
  const std::size_t eq = option.find('=');
  if (eq == std::string_view::npos) return false;
  const std::string_view key = option.substr(0, eq);
  const std::string_view value = option.substr(eq + 1);
  const bool bytes = key == "quota";
  if (!bytes && key != "files") return false;
  bool& given = bytes ? seen.bytes : seen.files;
  if (given) {
    report("option " + std::string(key) + "= is given more than once; give one " +
           std::string(bytes ? limit_options[0].shown : limit_options[1].shown));
    return true;
  }
  given = true;
  const ValueRead<std::uint64_t> read = bytes ? read_size(value, key) : read_count(value, key);
  if (!read.value) report(read.problem);
  else (bytes ? limit.bytes : limit.files) = read.value;
  return true;
}

}  // namespace gw::mapping::detail
