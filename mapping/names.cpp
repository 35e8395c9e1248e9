#include "names.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace gw::mapping {

namespace {

constexpr std::size_t max_name_bytes = 255;      // NAME_MAX on Linux
constexpr std::size_t max_user_name_bytes = 32;  // useradd's limit

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_lower(c) || is_upper(c) || is_digit(c); }

// Accounts of a Debian 12 base system (base-passwd) plus those that packages
// the gateway runs beside create. A sftp user with one of these names would
// share an identity with a system service.
constexpr std::array<std::string_view, 21> reserved_names = {
    "root",  "daemon", "bin",    "sys",    "sync", "games", "man",
    "lp",    "mail",   "news",   "uucp",   "proxy", "www-data", "backup",
    "list",  "irc",    "gnats",  "nobody", "_apt", "sshd",  "messagebus"};

// Edit distance with unit costs, two rows: names are short.
std::size_t levenshtein(std::string_view a, std::string_view b) {
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace

std::optional<std::string> single_name_problem(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name == "." || name == "..") return "must not be '.' or '..'";
  if (name.find('/') != std::string_view::npos) return "must not contain '/'";
  if (name.find('\0') != std::string_view::npos) return "must not contain a NUL byte";
  if (name.size() > max_name_bytes) {
    return "must be at most 255 bytes long (it has " + std::to_string(name.size()) + ")";
  }
  return std::nullopt;
}

bool is_volume_name(std::string_view name) {
  if (name.empty() || !is_alnum(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alnum(c) || c == '_' || c == '.' || c == '-'; });
}

bool is_user_name(std::string_view name) {
  if (name.empty() || name.size() > max_user_name_bytes) return false;
  if (!is_lower(name.front()) && name.front() != '_') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return is_lower(c) || is_digit(c) || c == '_' || c == '-';
  });
}

bool is_reserved_user_name(std::string_view name) {
  if (name.starts_with("systemd-")) return true;  // systemd-network, -timesync, ...
  return std::find(reserved_names.begin(), reserved_names.end(), name) != reserved_names.end();
}

std::optional<std::string> closest(std::string_view name,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const std::string& candidate : candidates) {
    const std::size_t distance = levenshtein(name, candidate);
    // Ties go to the earlier candidate, so the answer does not depend on
    // anything but the order the admin wrote the names in.
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  if (best && best_distance <= 2 && best_distance < name.size()) return best;
  return std::nullopt;
}

}  // namespace gw::mapping
