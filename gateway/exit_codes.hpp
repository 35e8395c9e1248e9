// The gateway's exit codes: the one place that defines them. Scripts, the
// container's restart policy and the tests rely on these numbers, so they
// never change meaning.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace gw::gateway::exit_code {

inline constexpr int ok = 0;                // done; `check` also exits 0 with warnings
inline constexpr int failure = 1;           // runtime failure (I/O, sshd died, not available)
inline constexpr int usage = 2;             // bad option, config file or users/map input
inline constexpr int backing_unusable = 3;  // a home or volume folder cannot be served
inline constexpr int mount_failed = 4;      // the FUSE view could not be mounted

}  // namespace gw::gateway::exit_code

namespace gw::gateway {

// Ends the process with `code` after printing "gateway: <line>" for each of
// its lines (one, or one per problem: every bad line of a config file);
// thrown instead of calling exit() so destructors run and tests can catch it.
// what() is the first line.
class ExitError : public std::runtime_error {
 public:
  ExitError(int code, const std::string& what) : std::runtime_error(what), code_(code), lines_{what} {}
  ExitError(int code, std::vector<std::string> lines)
      : std::runtime_error(lines.empty() ? std::string() : lines.front()), code_(code), lines_(std::move(lines)) {}
  int code() const { return code_; }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  int code_;
  std::vector<std::string> lines_;
};

// A usage or configuration error (exit code 2).
class UsageError : public ExitError {
 public:
  explicit UsageError(const std::string& what) : ExitError(exit_code::usage, what) {}
  explicit UsageError(std::vector<std::string> lines) : ExitError(exit_code::usage, std::move(lines)) {}
};

}  // namespace gw::gateway
