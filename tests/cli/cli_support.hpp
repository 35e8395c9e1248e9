// Helpers for the cli tier: temporary folders, environment guards, and
// running a program (the real gateway binary, python3) with captured output.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gw::test {

// A fresh folder under base, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& base = "/tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write_file(const std::string& path, const std::string& text);
// The file's bytes ("" if it cannot be read).
std::string read_text(const std::string& path);
// The permission bits of `path` itself (not a symlink's target).
unsigned mode_of(const std::string& path);
void make_dir(const std::string& path, unsigned mode, unsigned uid, unsigned gid);

// Sets (or with unset, removes) an environment variable for one scope and
// restores the old value after. In-process option tests read the real
// environment, as parse_environment does.
class EnvVar {
 public:
  EnvVar(std::string name, const char* value);
  ~EnvVar();
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  std::string name_;
  bool had_ = false;
  std::string old_;
};

// Clears SFTP_USERS, SFTP_VOLUMES and SFTP_PORT for one scope, so the
// tests do not depend on the environment they run in.
struct CleanSftpEnv {
  EnvVar users{"SFTP_USERS", nullptr};
  EnvVar volumes{"SFTP_VOLUMES", nullptr};
  EnvVar port{"SFTP_PORT", nullptr};
};

struct RunResult {
  int code = -1;  // exit code, or 128 + signal
  std::string out;
  std::string err;
};

using Env = std::vector<std::pair<std::string, std::string>>;

// Runs program with args, a clean environment (PATH plus env) and input on
// stdin; waits and captures stdout and stderr.
RunResult run_program(const std::string& program, const std::vector<std::string>& args, const Env& env = {},
                      const std::string& input = "");

// The gateway binary under test: $GATEWAY_BIN, set by ctest.
std::string gateway_bin();
RunResult run_gateway(const std::vector<std::string>& args, const Env& env = {});

std::vector<std::string> lines(const std::string& text);
std::vector<std::string> words(const std::string& line);

}  // namespace gw::test
