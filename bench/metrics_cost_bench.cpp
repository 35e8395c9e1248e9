// metrics_cost_bench: what counting one request costs (fs/metrics.hpp), the
// way the reply guard counts it (fs/request.hpp: two reads of the monotonic
// clock around the request, then Metrics::request), on THREADS threads at
// once counting into the same counters (the FUSE worker's threads share
// them: contended cache lines included). The SFTP benchmark cannot resolve
// a cost this small against the machine's noise; this times it alone, and
// bench/metrics-ab gives the requests and the worker's CPU per uploaded file
// to weigh it against. Prints one JSON object: ns per counted request (the
// median of RUNS runs) and the same loop without the counting, for the
// loop's own cost.
//
//   metrics_cost_bench [THREADS] [REQUESTS_PER_THREAD] [RUNS]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "fs/metrics.hpp"
#include "fs/request_kind.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Seconds for `threads` threads each to make `n` requests' worth of
// counting (or of the loop alone).
double run(gw::fs::Metrics& metrics, int threads, long n, bool count) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  std::atomic<long> sink{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load()) {
      }
      long local = 0;
      for (long i = 0; i < n; ++i) {
        // As the guard: lookups and writes, an error now and then.
        const auto kind = (i & 1) ? gw::fs::RequestKind::lookup : gw::fs::RequestKind::write;
        const int err = (i % 16 == 0) ? 2 : 0;
        if (count) {
          const auto start = Clock::now();
          metrics.request(kind, err, Clock::now() - start);
        } else {
          local += static_cast<long>(kind) + err + t;
        }
      }
      sink.fetch_add(local);
    });
  }
  while (ready.load() != threads) {
  }
  const auto t0 = Clock::now();
  go.store(true);
  for (auto& w : workers) w.join();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const long n = argc > 2 ? std::atol(argv[2]) : 5'000'000;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  if (threads < 1 || n < 1 || runs < 1) {
    std::fprintf(stderr, "usage: metrics_cost_bench [THREADS>=1] [REQUESTS_PER_THREAD>=1] [RUNS>=1]\n");
    return 2;
  }
  gw::fs::Metrics metrics;
  std::vector<double> counted, bare;
  for (int r = 0; r < runs; ++r) {
    counted.push_back(run(metrics, threads, n, true));
    bare.push_back(run(metrics, threads, n, false));
  }
  std::sort(counted.begin(), counted.end());
  std::sort(bare.begin(), bare.end());
  // Every thread makes n requests at once: wall seconds / n is what one
  // request's counting holds a thread (its CPU, each thread on its own core).
  const auto ns = [&](double seconds) { return seconds * 1e9 / static_cast<double>(n); };
  std::printf("{\"threads\": %d, \"requests_per_thread\": %ld, \"runs\": %d, \"ns_per_counted_request\": %.1f, "
              "\"ns_per_bare_loop\": %.1f}\n",
              threads, n, runs, ns(counted[counted.size() / 2]), ns(bare[bare.size() / 2]));
  return 0;
}
