// BackgroundJobs: the view's one thread for work off the request path.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "fs/background_jobs.hpp"
#include "support/catch.hpp"

using gw::fs::BackgroundJobs;
using namespace std::chrono_literals;

namespace {

template <class Pred>
bool eventually(Pred done) {
  for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(10ms);
  return done();
}

}  // namespace

TEST_CASE("background jobs run in the order posted, on one thread that is not the poster's", "[fs][background]") {
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  BackgroundJobs jobs;
  for (int i = 0; i < 5; ++i)
    jobs.post([&, i](const std::atomic<bool>&) {
      std::lock_guard lock(mu);
      order.push_back(i);
      threads.push_back(std::this_thread::get_id());
    });
  REQUIRE(eventually([&] {
    std::lock_guard lock(mu);
    return order.size() == 5;
  }));
  std::lock_guard lock(mu);
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  for (const auto& id : threads) CHECK(id == threads.front());
  CHECK(threads.front() != std::this_thread::get_id());
}

TEST_CASE("destroying the jobs stops the running one and drops those not started", "[fs][background]") {
  std::atomic<bool> running{false}, stopped{false}, later_ran{false};
  {
    BackgroundJobs jobs;
    jobs.post([&](const std::atomic<bool>& stopping) {
      running = true;
      while (!stopping) std::this_thread::sleep_for(1ms);  // a long walk that checks its flag
      stopped = true;
    });
    jobs.post([&](const std::atomic<bool>&) { later_ran = true; });
    REQUIRE(eventually([&] { return running.load(); }));
  }  // joins: returns only once the running job saw the flag
  CHECK(stopped);
  CHECK_FALSE(later_ran);
}
