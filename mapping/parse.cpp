// Lists into items, and the checks that need more than one item: duplicate
// users and uids, rules naming unknown users, duplicate mounts of one user,
// one folder limited two ways.
#include "parse.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "names.hpp"
#include "parse_items.hpp"
#include "plan.hpp"
#include "values.hpp"

namespace gw::mapping {

namespace {

constexpr std::size_t users_listed_at_most = 5;  // keeps "unknown user" to one readable line

std::string_view trim(std::string_view text) {
  // CR and LF too: a compose file's block scalar puts them into the variable.
  constexpr std::string_view blanks = " \t\r\n";
  const std::size_t first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

// What the users' items told the rules' checks. Hashed sets beside the
// ordered list: configurations reach 100,000 users.
struct UserIndex {
  std::vector<std::string> valid;               // the users that made it into the model, in order
  std::unordered_set<std::string> named_set;    // every name given, even in a bad item
  std::unordered_set<std::string> valid_set;
};

void check_users(const std::vector<Item>& items, Parsed& out, UserIndex& index) {
  // The first item of each name and uid; a message names it only for a
  // duplicate, so nothing is built per good item.
  std::unordered_map<std::string, const Item*> name_items;
  struct FirstUid {
    const Item* item;
    std::optional<std::string> name;
  };
  std::unordered_map<std::uint32_t, FirstUid> uid_items;
  name_items.reserve(items.size());
  uid_items.reserve(items.size());
  out.model.users.reserve(items.size());
  index.valid.reserve(items.size());
  for (const Item& item : items) {
    const detail::UserItem parsed = detail::parse_user_item(item, out.problems);
    const detail::Report report(item, out.problems);
    if (parsed.name) {
      const auto [it, fresh] = name_items.try_emplace(*parsed.name, &item);
      if (fresh) index.named_set.insert(*parsed.name);
      else report("duplicate user name '" + *parsed.name + "' (also in " + it->second->source + ")");
    }
    if (parsed.uid) {
      const auto [it, fresh] = uid_items.try_emplace(*parsed.uid, FirstUid{&item, parsed.name});
      if (!fresh) {
        const FirstUid& first = it->second;
        const std::string who = first.name ? *first.name + ", " + first.item->source : first.item->source;
        report("duplicate uid " + std::to_string(*parsed.uid) + " (also used by " + who + ")");
      }
    }
    if (parsed.user && report.clean()) {
      out.model.users.push_back(*parsed.user);
      index.valid.push_back(parsed.user->name);
      index.valid_set.insert(parsed.user->name);
    }
  }
}

// Suggests and lists only valid users: those are what a rule can name.
std::string unknown_user_message(const std::string& user, const UserIndex& index) {
  std::string message = "unknown user '" + user + "'";
  if (auto near = closest(user, index.valid)) return message + "; did you mean '" + *near + "'?";
  if (index.valid.empty()) return message + "; no valid users are defined";
  message += "; known users: ";
  for (std::size_t i = 0; i < index.valid.size() && i < users_listed_at_most; ++i) {
    message += (i == 0 ? "" : ", ") + index.valid[i];
  }
  return index.valid.size() > users_listed_at_most ? message + ", ..." : message;
}

// The first rule that limits a folder, which every later one must agree with.
struct FolderLimit {
  Limit limit;
  std::string source;
};

// The limit is the folder's, not the rule's: every user and the consumer
// container fill the same folder, so two rules cannot give it two limits.
// A rule without a limit on a folder another one limits is fine (the limit
// applies to it too; see make_plan).
void check_folder_limit(const Rule& rule, const std::string& source, std::map<std::string, FolderLimit>& limits,
                        const detail::Report& report) {
  if (!rule.limit.any()) return;
  const std::string key = folder_key(rule.volume, rule.subdir);
  const auto [it, fresh] = limits.try_emplace(key, FolderLimit{rule.limit, source});
  if (fresh || it->second.limit == rule.limit) return;
  report("folder " + key + " is limited to " + render_limit(rule.limit) + " here but to " +
         render_limit(it->second.limit) + " in " + it->second.source +
         "; one folder has one limit: give the same quota= and files= in both, or leave them out of one");
}

void check_rules(const std::vector<Item>& items, const UserIndex& index, Keep keep, Parsed& out) {
  // The first item of each (user, mount), keyed "user\0mount" (neither
  // name holds a NUL).
  std::unordered_map<std::string, const Item*> mount_items;
  mount_items.reserve(items.size());
  std::map<std::string, FolderLimit> folder_limits;  // by folder_key
  if (keep == Keep::model) out.model.rules.reserve(items.size());
  for (const Item& item : items) {
    detail::RuleItem parsed = detail::parse_rule_item(item, out.problems);
    const detail::Report report(item, out.problems);
    // A user whose own item was bad has had its error already; saying
    // "unknown user" about it as well would only confuse.
    if (parsed.user && !index.named_set.count(*parsed.user)) {
      report(unknown_user_message(*parsed.user, index));
    }
    if (parsed.user && parsed.mount) {
      std::string key = *parsed.user;
      key += '\0';
      key += *parsed.mount;
      const auto [it, fresh] = mount_items.try_emplace(std::move(key), &item);
      if (!fresh) {
        report("duplicate mount name '" + *parsed.mount + "' for user " + *parsed.user +
               " (also in " + it->second->source + ")");
      }
    }
    if (parsed.rule) check_folder_limit(*parsed.rule, item.source, folder_limits, report);
    if (keep == Keep::model && parsed.rule && report.clean() && index.valid_set.count(parsed.rule->user)) {
      out.model.rules.push_back(std::move(*parsed.rule));
    }
  }
}

}  // namespace

namespace detail {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t at; (at = text.find(separator, start)) != std::string_view::npos;
       start = at + 1) {
    parts.push_back(text.substr(start, at - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

}  // namespace detail

std::vector<Item> split_list(std::string_view text, std::string_view label) {
  std::vector<Item> items;
  for (const std::string_view part : detail::split(text, ',')) {
    const std::string_view item = trim(part);
    if (item.empty()) continue;
    items.push_back(Item{std::string(item),
                         std::string(label) + " item " + std::to_string(items.size() + 1)});
  }
  return items;
}

Parsed parse(const Input& input, Keep keep) {
  Parsed out;
  UserIndex index;
  check_users(input.users, out, index);
  check_rules(input.rules, index, keep, out);
  return out;
}

}  // namespace gw::mapping
