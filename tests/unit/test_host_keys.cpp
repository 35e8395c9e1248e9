// Host keys on a fresh state folder: made once, 0600 from the start, and
// the same keys for gateways that start together on one state folder.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_support.hpp"
#include "gateway/keys/host_keys.hpp"
#include "support/catch.hpp"

using gw::gateway::ensure_host_keys;
using gw::gateway::HostKey;
using gw::test::mode_of;
using gw::test::TempDir;

namespace {

// The default logger's lines for one scope (host_keys logs each key it makes).
class CapturedLog {
 public:
  CapturedLog() : old_(spdlog::default_logger()) {
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("captured", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)));
  }
  ~CapturedLog() { spdlog::set_default_logger(old_); }
  std::size_t count(const std::string& text) const {
    const std::string all = out_.str();
    std::size_t n = 0;
    for (auto at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) ++n;
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> old_;
};

std::vector<std::string> fingerprints(const std::vector<HostKey>& keys) {
  std::vector<std::string> out;
  for (const HostKey& k : keys) out.push_back(k.file + " " + k.fingerprint);
  return out;
}

}  // namespace

TEST_CASE("host keys: made once, private, the same for gateways starting together", "[unit][host_keys]") {
  const TempDir state;
  const CapturedLog log;
  // Two starts at once (flock contends between threads as between processes).
  std::vector<HostKey> first, second;
  std::exception_ptr failed[2];
  std::thread one([&] {
    try {
      first = ensure_host_keys(state.path().string());
    } catch (...) {
      failed[0] = std::current_exception();
    }
  });
  std::thread two([&] {
    try {
      second = ensure_host_keys(state.path().string());
    } catch (...) {
      failed[1] = std::current_exception();
    }
  });
  one.join();
  two.join();
  for (const auto& e : failed)
    if (e) std::rethrow_exception(e);
  CHECK(log.count("generated host key") == 2);  // ed25519 and RSA, once each
  REQUIRE(first.size() == 2);
  CHECK(fingerprints(first) == fingerprints(second));
  const std::string folder = state / "host_keys";
  CHECK(mode_of(folder) == 0700);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(folder)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"ssh_host_ed25519_key", "ssh_host_rsa_key"});  // no temporaries
  for (const auto& name : names) CHECK(mode_of(folder + "/" + name) == 0600);
  // A later start loads them: nothing is made again.
  CHECK(fingerprints(ensure_host_keys(state.path().string())) == fingerprints(first));
  CHECK(log.count("generated host key") == 2);
}
