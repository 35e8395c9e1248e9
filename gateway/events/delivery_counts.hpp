// What a sink's courier counts (courier.hpp), kept in the page the
// supervisor shares with the worker (serve/progress_counter.hpp), which
// renders it on /metrics: lock-free atomics and a fixed-size name only,
// since the page is memory shared by two processes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace gw::gateway {

inline constexpr std::size_t kMaxSinks = 8;        // a slot each: each --event-url, then the --event-command
inline constexpr std::size_t kSinkNameBytes = 24;  // "url-<12 hex>" and "command" fit

struct DeliveryCounts {
  // The sink's name, NUL-terminated; empty for a slot no sink uses. Written
  // once by the supervisor before the first worker starts, never changed.
  char sink[kSinkNameBytes] = {};
  std::atomic<std::uint64_t> delivered{0};  // events delivered
  std::atomic<std::uint64_t> failed{0};     // attempts that failed (each is retried)
  std::atomic<std::uint64_t> pending{0};    // events read from the spool, not delivered yet
};

}  // namespace gw::gateway
