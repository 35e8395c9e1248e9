// Reading one `volume[/subdir]:user:mount[:opt[:opt...]]` item.
#include <algorithm>
#include <array>

#include "names.hpp"
#include "parse_items.hpp"
#include "values.hpp"

namespace gw::mapping::detail {

namespace {

// Every option a rule takes, in the order the messages list them.
constexpr std::array<OptionName, 10> rule_options{{
    {"rw", "rw"},
    {"ro", "ro"},
    {"owner", "owner=UID:GID"},
    {"symlinks", "symlinks"},
    {"atomic", "atomic"},
    {"noatomic", "noatomic"},
    {"quota", "quota=SIZE"},
    {"files", "files=N"},
    {"umask", "umask=OCTAL"},
    {"events", "events=KINDS"},
}};
// The options that are a word, not key=value.
constexpr std::array<std::string_view, 5> option_words = {"rw", "ro", "symlinks", "atomic", "noatomic"};
// The keys whose value never contains a ':' (unlike owner=UID:GID).
constexpr std::array<std::string_view, 4> plain_value_keys = {"quota", "files", "umask", "events"};

// The problem line already quotes the whole item: a part of it is clipped.
std::string quoted(std::string_view text) { return "'" + clip(text, kQuotedPart) + "'"; }

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Which options an item gave, to find conflicts once all are read.
struct Seen {
  bool rw = false;
  bool ro = false;
  bool atomic = false;
  bool noatomic = false;
  bool owner = false;
  bool umask = false;
  bool events = false;
  LimitSeen limit;
};

void check_volume(std::string_view volume, const Report& report) {
  if (volume.empty()) {
    report("volume name is empty; expected " + std::string(rule_shape));
  } else if (!is_volume_name(volume)) {
    report("volume name " + quoted(volume) +
           " is not valid: Docker volume names match [a-zA-Z0-9][a-zA-Z0-9_.-]*");
  }
}

// Why one component of a subdir cannot be part of it, if it cannot.
std::optional<std::string> subdir_component_problem(std::string_view subdir, std::string_view component) {
  if (component.empty()) return "subdir " + quoted(subdir) + " has an empty component ('//' or a leading '/')";
  if (component == "." || component == "..") {
    return "subdir " + quoted(subdir) + " must not contain " + quoted(component) +
           "; a subdir names a folder inside the volume, e.g. volume/site/public";
  }
  if (auto why = config_name_problem(component)) return "subdir component " + quoted(component) + " " + *why;
  return std::nullopt;
}

// The subdir without trailing slashes ("" is the volume's root); each
// component must be a plain name so the backing path stays inside the volume.
// One problem at most: the subdir is one field, and "a/../../b" is one
// mistake, not two.
std::string check_subdir(std::string_view subdir, const Report& report) {
  while (!subdir.empty() && subdir.back() == '/') subdir.remove_suffix(1);
  if (subdir.empty()) return {};
  for (const std::string_view component : split(subdir, '/')) {
    if (auto why = subdir_component_problem(subdir, component)) {
      report(std::move(*why));
      break;
    }
  }
  return std::string(subdir);
}

void check_source(std::string_view field, Rule& rule, const Report& report) {
  if (field.starts_with('/')) {
    report(quoted(field) + " is a path; a rule maps a Docker volume by name: " +
           std::string(rule_shape));
    return;
  }
  const std::size_t slash = field.find('/');
  rule.volume = std::string(field.substr(0, slash));
  check_volume(rule.volume, report);
  if (slash != std::string_view::npos) rule.subdir = check_subdir(field.substr(slash + 1), report);
}

void apply_owner(std::string_view option, Rule& rule, Seen& seen, const Report& report) {
  if (seen.owner) {
    report("option owner= is given more than once; give one owner=UID:GID");
    return;
  }
  seen.owner = true;
  const std::string_view value = option.substr(option.find('=') + 1);
  const std::size_t colon = value.find(':');
  if (colon == std::string_view::npos) {
    report("option " + quoted(option) + " needs both ids: owner=UID:GID, e.g. owner=1000:1000");
    return;
  }
  const auto uid = parse_id(value.substr(0, colon), IdKind::uid, report, "owner ");
  const auto gid = parse_id(value.substr(colon + 1), IdKind::gid, report, "owner ");
  if (uid && gid) rule.owner = Owner{*uid, *gid};
}

void apply_umask(std::string_view option, Rule& rule, Seen& seen, const Report& report) {
  if (seen.umask) {
    report("option umask= is given more than once; give one umask=OCTAL");
    return;
  }
  seen.umask = true;
  const ValueRead<std::uint32_t> read = read_umask(option.substr(option.find('=') + 1), "umask");
  if (read.value) rule.umask = read.value;
  else report(read.problem);
}

void apply_events(std::string_view option, Rule& rule, Seen& seen, const Report& report) {
  if (seen.events) {
    report("option events= is given more than once; give one events=KINDS");
    return;
  }
  seen.events = true;
  // '+' between kinds: ',' already separates the items of SFTP_VOLUMES.
  const ValueRead<EventKinds> read = read_event_kinds(option.substr(option.find('=') + 1), "events", '+');
  if (read.value) rule.events = read.value;
  else report(read.problem);
}

void apply_option(std::string_view option, Rule& rule, Seen& seen, const Report& report) {
  if (option == "rw") {
    seen.rw = true;
  } else if (option == "ro") {
    seen.ro = true;
    rule.access = Access::read_only;
  } else if (option == "symlinks") {
    rule.symlinks = true;
  } else if (option == "atomic") {
    seen.atomic = true;
  } else if (option == "noatomic") {
    seen.noatomic = true;
    rule.atomic = false;
  } else if (option.starts_with("owner=")) {
    apply_owner(option, rule, seen, report);
  } else if (option.starts_with("umask=")) {
    apply_umask(option, rule, seen, report);
  } else if (option.starts_with("events=")) {
    apply_events(option, rule, seen, report);
  } else if (!apply_limit_option(option, rule.limit, seen.limit, report)) {
    report_unknown_option(option, rule_options, report);
  }
}

// The options as written. owner=UID:GID has a ':' of its own, so a field
// after a `key=value` is part of its value unless it reads as an option
// itself; a misspelt key (ownr=1:2) then gives one error, not two. The keys
// whose values never hold a ':' keep theirs: `quota=5G:web` is a quota and
// an unknown option, not a quota of "5G:web".
std::vector<std::string> rejoin_options(const std::vector<std::string_view>& fields) {
  const auto is_option = [](std::string_view field) {
    return field.find('=') != std::string_view::npos ||
           std::find(option_words.begin(), option_words.end(), field) != option_words.end();
  };
  const auto takes_colon = [](std::string_view option) {
    const std::size_t eq = option.find('=');
    return eq != std::string_view::npos &&
           std::find(plain_value_keys.begin(), plain_value_keys.end(), option.substr(0, eq)) == plain_value_keys.end();
  };
  std::vector<std::string> options;
  for (std::size_t i = 3; i < fields.size(); ++i) {
    std::string option(fields[i]);
    if (takes_colon(option) && i + 1 < fields.size() && !is_option(fields[i + 1])) {
      option += ":" + std::string(fields[++i]);
    }
    options.push_back(std::move(option));
  }
  return options;
}

void check_options(const std::vector<std::string_view>& fields, Rule& rule,
                   const Report& report) {
  Seen seen;
  for (const std::string& option : rejoin_options(fields)) apply_option(option, rule, seen, report);
  if (seen.ro && seen.rw) report("options 'ro' and 'rw' conflict; give one of them");
  if (seen.atomic && seen.noatomic) {
    report("options 'atomic' and 'noatomic' conflict; give one of them");
  }
}

}  // namespace

std::optional<std::string> config_name_problem(std::string_view name) {
  if (auto why = single_name_problem(name)) return why;
  if (name.find(',') != std::string_view::npos) return "must not contain ',' (it separates items)";
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return "must not contain control characters";
  }
  if (is_blank(name.front()) || is_blank(name.back())) {
    return "must not start or end with a blank";
  }
  return std::nullopt;
}

RuleItem parse_rule_item(const Item& item, Problems& out) {
  const Report report(item, out);
  const std::vector<std::string_view> fields = split(item.text, ':');
  RuleItem result;
  if (fields.size() < 3) {
    report("expected " + std::string(rule_shape) + ", found " + std::to_string(fields.size()) +
           (fields.size() == 1 ? " field" : " fields"));
    return result;
  }
  Rule rule;
  check_source(fields[0], rule, report);
  rule.user = std::string(fields[1]);
  if (rule.user.empty()) report("user is empty; expected " + std::string(rule_shape));
  else result.user = rule.user;
  rule.mount = std::string(fields[2]);
  if (auto why = config_name_problem(rule.mount)) {
    report("mount name " + (rule.mount.empty() ? "" : quoted(rule.mount) + " ") + *why);
  } else {
    result.mount = rule.mount;
  }
  check_options(fields, rule, report);
  if (report.clean()) result.rule = std::move(rule);
  return result;
}

}  // namespace gw::mapping::detail
