// Run-wide hooks of the mount tier: the prerequisites (root, /dev/fuse,
// fusermount3, the binary) are checked once before any test, and a failed
// assertion prints the log of every gateway alive at that moment, which is
// usually the only way to see why the view answered what it did.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "mount/gateway_process.hpp"
#include "support/catch.hpp"
#include "support/prerequisite.hpp"

#if defined(GATEWAY_CATCH3)
#include <catch2/reporters/catch_reporter_event_listener.hpp>
#include <catch2/reporters/catch_reporter_registrars.hpp>
#endif

namespace {

void check_prerequisites() {
  gw::test::require_fuse();
  gw::test::require_program("strace");  // holds a syscall to open a race window (test_ownership.cpp)
  const char* bin = std::getenv("GATEWAY_BIN");
  gw::test::require(bin != nullptr && ::access(bin, X_OK) == 0, "GATEWAY_BIN (run the tests through ctest)");
}

// Each log is printed once per test case, at its first failure.
std::set<std::string>& printed() {
  static std::set<std::string> logs;
  return logs;
}

void print_logs(bool failed) {
  if (!failed) return;
  for (const auto& path : gw::mount_test::live_gateway_logs()) {
    if (!printed().insert(path).second) continue;
    std::string text;
    if (std::FILE* f = std::fopen(path.c_str(), "r")) {
      char buf[4096];
      std::size_t n = 0;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
      std::fclose(f);
    }
    // The tail is what matters; a scale test logs a lot at debug level.
    if (text.size() > 16000) text = "...\n" + text.substr(text.size() - 16000);
    std::fprintf(stderr, "---- gateway log %s ----\n%s---- end of log ----\n", path.c_str(), text.c_str());
  }
}

#if defined(GATEWAY_CATCH3)
class MountListener : public Catch::EventListenerBase {
 public:
  using Catch::EventListenerBase::EventListenerBase;
  void testRunStarting(const Catch::TestRunInfo&) override { check_prerequisites(); }
  void testCaseStarting(const Catch::TestCaseInfo&) override { printed().clear(); }
  void assertionEnded(const Catch::AssertionStats& s) override { print_logs(!s.assertionResult.isOk()); }
};
#else
struct MountListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testRunStarting(const Catch::TestRunInfo& info) override {
    check_prerequisites();
    TestEventListenerBase::testRunStarting(info);
  }
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    printed().clear();
    TestEventListenerBase::testCaseStarting(info);
  }
  bool assertionEnded(const Catch::AssertionStats& s) override {
    print_logs(!s.assertionResult.isOk());
    return true;
  }
};
#endif

}  // namespace

CATCH_REGISTER_LISTENER(MountListener)
