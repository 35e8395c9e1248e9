// Reading one `name:uid[:gid][:quota=SIZE][:files=N]` item, and the uid/gid rules rules share.
#include <algorithm>
#include <cctype>

#include "names.hpp"
#include "parse_items.hpp"

namespace gw::mapping::detail {

namespace {

// (uid_t)-1 means "leave unchanged" to chown(2) and setresuid(2).
constexpr std::uint32_t max_id = 4294967294u;
// nobody/nogroup own what nobody should: NFS squashing, unmapped ids.
constexpr std::uint32_t overflow_id = 65534u;

// The problem line already quotes the whole item: a part of it is clipped.
std::string quoted(std::string_view text) { return "'" + clip(text, kQuotedPart) + "'"; }

std::string id_hint(IdKind kind) {
  return std::string("use a decimal ") + (kind == IdKind::uid ? "uid" : "gid") +
         " from 1 to 4294967294, other than 65534";
}

// Why the value is reserved, as in "uid 0 is root".
std::string reserved_id_reason(std::uint32_t id, IdKind kind) {
  if (kind == IdKind::uid) return id == 0 ? "is root" : "is nobody";
  return id == 0 ? "is root's group" : "is nogroup";
}

void check_user_name(std::string_view name, const Report& report) {
  if (name.empty()) {
    report("user name is empty; expected " + std::string(user_shape));
  } else if (!is_user_name(name)) {
    std::string message = "user name " + quoted(name) +
                          " is not valid: use 1 to 32 of a-z, 0-9, '_' and '-', "
                          "starting with a-z or '_'";
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower != name && is_user_name(lower)) message += "; did you mean " + quoted(lower) + "?";
    report(std::move(message));
  } else if (is_reserved_user_name(name)) {
    report("user name " + quoted(name) + " is reserved for a system account; choose another name");
  }
}

}  // namespace

std::optional<std::uint32_t> parse_id(std::string_view text, IdKind kind, const Report& report,
                                      std::string_view prefix) {
  const std::string what = std::string(prefix) + (kind == IdKind::uid ? "uid" : "gid");
  if (text.empty()) {
    report(what + " is empty; " + id_hint(kind));
    return std::nullopt;
  }
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    report(what + " " + quoted(text) + " is not a decimal number; " + id_hint(kind));
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (const char c : text) {
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (value > max_id) {
      report(what + " " + clip(text, kQuotedPart) + " is out of range; " + id_hint(kind));
      return std::nullopt;
    }
  }
  const auto id = static_cast<std::uint32_t>(value);
  if (id == 0 || id == overflow_id) {
    report(what + " " + std::to_string(id) + " " + reserved_id_reason(id, kind) + "; " +
           id_hint(kind));
    return std::nullopt;
  }
  return id;
}

UserItem parse_user_item(const Item& item, Problems& out) {
  const Report report(item, out);
  const std::vector<std::string_view> fields = split(item.text, ':');
  UserItem result;
  if (!fields[0].empty()) result.name = std::string(fields[0]);
  if (fields.size() < 2) {
    report("expected " + std::string(user_shape) + ", found 1 field");
    return result;
  }
  check_user_name(fields[0], report);
  result.uid = parse_id(fields[1], IdKind::uid, report);
  // The gid is the third field unless that is already an option: no
  // option value holds a ':', so an option is any field with a '='.
  const bool has_gid = fields.size() > 2 && fields[2].find('=') == std::string_view::npos;
  const std::optional<std::uint32_t> gid = has_gid ? parse_id(fields[2], IdKind::gid, report) : result.uid;
  User user{std::string(fields[0]), 0, 0};
  LimitSeen seen;
  for (std::size_t i = has_gid ? 3 : 2; i < fields.size(); ++i) {
    if (!apply_limit_option(fields[i], user.limit, seen, report)) report_unknown_option(fields[i], limit_options, report);
  }
  if (report.clean()) {
    user.uid = *result.uid;
    user.gid = *gid;
    result.user = std::move(user);
  }
  return result;
}

}  // namespace gw::mapping::detail
