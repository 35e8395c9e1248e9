#include "gateway/options/event_options.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "fs/event.hpp"
#include "fs/unique_fd.hpp"
#include "gateway/events/delivery_counts.hpp"
#include "mapping/problem.hpp"
#include "mapping/values.hpp"

namespace gw::gateway {
namespace {

// A secret is a line, not a document: anything longer is a mistake (the
// wrong file given).
constexpr std::size_t kMostSecretBytes = 64 * 1024;
constexpr double kMostTimeout = 3600;
constexpr int kMostParallel = 64;
constexpr std::uint64_t kLeastSpool = 1u << 20;  // one segment

std::string shown(std::string_view value) { return "'" + mapping::excerpt(std::string(value), mapping::kQuotedPart) + "'"; }

bool has_control_or_space(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
}

// "" when `url` is one libcurl will be allowed to fetch (http or https,
// with a host), else why not.
std::string url_problem(std::string_view url) {
  std::string lower(url.substr(0, 8));
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::size_t rest = 0;
  if (lower.starts_with("http://")) rest = 7;
  else if (lower.starts_with("https://")) rest = 8;
  else return "is not an http:// or https:// URL";
  if (has_control_or_space(url)) return "has a space or a control character";
  if (rest == url.size() || url.find_first_of("/?#", rest) == rest) return "has no host";
  return "";
}

std::vector<std::string> url_values(const boost::program_options::variables_map& vm, const OptionProblem& problem) {
  std::vector<std::string> urls;
  if (vm.count("event-url") == 0) return urls;
  std::set<std::string> seen;
  for (const std::string& url : vm["event-url"].as<std::vector<std::string>>()) {
    if (const std::string why = url_problem(url); !why.empty()) problem("event-url", shown(url) + " " + why);
    else if (!seen.insert(url).second) problem("event-url", shown(url) + " is given twice");
    else urls.push_back(url);
  }
  return urls;
}

// The whole file, trailing newlines stripped. Opened without blocking (a
// FIFO in its place would wait for a writer forever) and refused unless it
// is a regular file.
std::optional<std::string> read_secret(const std::string& path, std::string* why) {
  const fs::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    *why = "cannot read " + shown(path) + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    *why = shown(path) + " is not a regular file";
    return std::nullopt;
  }
  std::string secret;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *why = "cannot read " + shown(path) + ": " + std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0) break;
    secret.append(buf, static_cast<std::size_t>(n));
    if (secret.size() > kMostSecretBytes) {
      *why = shown(path) + " is larger than 64 KiB; the secret is one line";
      return std::nullopt;
    }
  }
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) {
    *why = shown(path) + " is empty";
    return std::nullopt;
  }
  return secret;
}

struct Account {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

// A name from the account database, or a number: a uid without an entry
// (containers run such ids) gets the group of the same number.
std::optional<Account> find_account(const std::string& user, std::string* why) {
  const bool numeric = !user.empty() && user.size() <= 10 && user.find_first_not_of("0123456789") == std::string::npos;
  std::vector<char> buf(16384);
  struct passwd pw {};
  struct passwd* found = nullptr;
  int err = 0;
  for (;;) {
    err = numeric ? ::getpwuid_r(static_cast<uid_t>(std::stoul(user)), &pw, buf.data(), buf.size(), &found)
                  : ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
    if (err != ERANGE || buf.size() > (1u << 20)) break;
    buf.resize(buf.size() * 2);
  }
  std::optional<Account> account;
  if (found) account = Account{pw.pw_uid, pw.pw_gid};
  else if (numeric && std::stoul(user) <= 0xfffffffeul) account = Account{static_cast<std::uint32_t>(std::stoul(user)),
                                                                          static_cast<std::uint32_t>(std::stoul(user))};
  if (!account) {
    *why = err != 0 ? "cannot look up " + shown(user) + ": " + std::strerror(err) : "no such user " + shown(user);
    return std::nullopt;
  }
  if (account->uid == 0) {
    *why = shown(user) + " is root; the command runs as an unprivileged user";
    return std::nullopt;
  }
  if (account->gid == 0) {  // root's group opens what root's files allow their group
    *why = shown(user) + "'s group is root's (gid 0); the command runs without root's group";
    return std::nullopt;
  }
  return account;
}

// The command: a regular file the command's user may execute (exec runs
// after the switch to that user, so root's permission is not the question).
std::string command_problem(const std::string& path, const Account* user) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "cannot use " + shown(path) + ": " + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return shown(path) + " is not a regular file";
  if (!user) return "";
  const mode_t x = st.st_uid == user->uid ? S_IXUSR : st.st_gid == user->gid ? S_IXGRP : S_IXOTH;
  if ((st.st_mode & x) == 0) return shown(path) + " is not executable by uid " + std::to_string(user->uid);
  return "";
}

}  // namespace

EventSettings event_settings(const boost::program_options::variables_map& vm, const OptionProblem& problem,
                             bool resolve) {
  EventSettings e;
  e.urls = url_values(vm, problem);
  if (vm.count("event-secret-file") != 0) e.secret_file = vm["event-secret-file"].as<std::string>();
  if (vm.count("event-command") != 0) {
    e.command = vm["event-command"].as<std::string>();
    if (e.command.empty() || e.command.front() != '/') {
      problem("event-command", shown(e.command) + " is not an absolute path");
      e.command.clear();
    }
  }
  if (!e.urls.empty() && e.secret_file.empty())
    problem("event-url", "needs --event-secret-file (the key each delivery is signed with)");
  if (e.sinks() > kMaxSinks)
    problem("event-url", "at most " + std::to_string(kMaxSinks) + " sinks (each --event-url and the --event-command); " +
                             std::to_string(e.sinks()) + " given");
  e.command_user = vm["event-command-user"].as<std::string>();
  const double timeout = vm["event-timeout"].as<double>();
  if (std::isfinite(timeout) && timeout > 0 && timeout <= kMostTimeout) e.timeout = timeout;
  else problem("event-timeout", "event-timeout must be more than 0 and at most 3600 seconds");
  const int parallel = vm["event-parallel"].as<int>();
  if (parallel >= 1 && parallel <= kMostParallel) e.parallel = static_cast<unsigned>(parallel);
  else problem("event-parallel", "event-parallel must be 1 to " + std::to_string(kMostParallel));
  const auto limit = mapping::read_size(vm["event-spool-limit"].as<std::string>(), "event-spool-limit");
  if (!limit.value) problem("event-spool-limit", limit.problem);
  else if (*limit.value < kLeastSpool) problem("event-spool-limit", "event-spool-limit must be at least 1M (one segment)");
  else e.spool_limit = *limit.value;
  if (!resolve) return e;
  std::string why;
  if (!e.urls.empty() && !e.secret_file.empty()) {
    if (auto secret = read_secret(e.secret_file, &why)) e.secret = std::move(*secret);
    else problem("event-secret-file", why);
  }
  if (!e.command.empty()) {
    const std::optional<Account> account = find_account(e.command_user, &why);
    if (account) {
      e.command_uid = account->uid;
      e.command_gid = account->gid;
    } else {
      problem("event-command-user", why);
    }
    if (const std::string p = command_problem(e.command, account ? &*account : nullptr); !p.empty())
      problem("event-command", p);
  }
  return e;
}

std::uint8_t event_kinds(const boost::program_options::variables_map& vm, const OptionProblem& problem) {
  const auto read = mapping::read_event_kinds(vm["event-kinds"].as<std::string>(), "event-kinds", ',');
  if (!read.value) {
    problem("event-kinds", read.problem);
    return fs::kAllEventKinds;
  }
  return *read.value;
}

}  // namespace gw::gateway
