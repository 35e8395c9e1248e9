// Internal to mapping/: reading one user or rule item. parse() runs these on
// every item, then does the checks that need more than one item.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model.hpp"
#include "problem.hpp"

namespace gw::mapping::detail {

// Files problems against one item, so each check only says what is wrong.
// Lives no longer than the item and the list it refers to.
class Report {
 public:
  Report(const Item& item, Problems& out) : item_(item), out_(out), before_(out.size()) {}
  void operator()(std::string message) const {
    out_.push_back(Problem{item_.source, item_.text, std::move(message)});
  }
  // No problem was filed through this Report.
  bool clean() const { return out_.size() == before_; }

 private:
  const Item& item_;
  Problems& out_;
  std::size_t before_;
};

inline constexpr std::string_view user_shape = "name:uid[:gid][:options]";
inline constexpr std::string_view rule_shape = "volume[/subdir]:user:mount[:options]";

// The parts of `text` between separators, empty ones included:
// split("a::b:", ':') gives "a", "", "b", "".
std::vector<std::string_view> split(std::string_view text, char separator);

enum class IdKind { uid, gid };

// A decimal uid or gid from 1 to 4294967294, not 65534 (nobody/nogroup).
// `prefix` qualifies the messages ("owner " gives "owner uid 0 is root").
std::optional<std::uint32_t> parse_id(std::string_view text, IdKind kind, const Report& report,
                                      std::string_view prefix = "");

// A name from configuration that becomes one path component (a mount, a
// subdir component): single_name_problem(), and also nothing that would not
// survive render then parse (',' or blanks at the ends) or that would make it
// unreadable in a listing (control characters).
std::optional<std::string> config_name_problem(std::string_view name);

// An option an item may give: its key (or its whole word) and how the list
// of valid options shows it ("owner" as "owner=UID:GID").
struct OptionName {
  std::string_view key;
  std::string_view shown;
};

// The options as a list for a message: "rw, ro, owner=UID:GID, ...".
std::string option_list(std::span<const OptionName> known);

// An option that none of `known` matches: names it, suggests the closest
// key (a misspelt `qouta=1G` gets "did you mean 'quota=SIZE'?") and lists
// the valid ones.
void report_unknown_option(std::string_view option, std::span<const OptionName> known, const Report& report);

// quota=SIZE and files=N, the limit a rule puts on its folder and a user on
// their home, read the same way for both.
inline constexpr std::array<OptionName, 2> limit_options{{{"quota", "quota=SIZE"}, {"files", "files=N"}}};
struct LimitSeen {
  bool bytes = false;
  bool files = false;
};
// Reads `option` into `limit` when it is quota= or files= (a second one in
// the same item is a problem); false when it is neither.
bool apply_limit_option(std::string_view option, Limit& limit, LimitSeen& seen, const Report& report);

// One user item as far as it could be read: the cross-checks still use the
// name and uid of an otherwise bad item.
struct UserItem {
  std::optional<std::string> name;   // the name field as written, if not empty
  std::optional<std::uint32_t> uid;  // set when the uid is valid
  std::optional<User> user;          // set when the whole item is valid
};
UserItem parse_user_item(const Item& item, Problems& out);

// One rule item as far as it could be read, before the user is looked up.
struct RuleItem {
  std::optional<std::string> user;   // the user field as written, if not empty
  std::optional<std::string> mount;  // set when the mount name is valid
  std::optional<Rule> rule;          // set when the whole item is valid
};
RuleItem parse_rule_item(const Item& item, Problems& out);

}  // namespace gw::mapping::detail
