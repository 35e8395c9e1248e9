// The worker's metrics outlets, on one thread of their own: the endpoint on
// the listening socket the supervisor bound (--metrics-listen), and the file
// for node_exporter's textfile collector (--metrics-file), replaced whole
// every kFileInterval through gateway/atomic_file (a reader never sees half
// a page) and removed when the worker ends cleanly, so a stopped gateway
// leaves no figures that look current.
//
// One connection at a time, each bounded: the request head must arrive
// within kHeadTimeout and be at most kMaxRequestHead bytes, the answer must
// be taken within kSendTimeout, what the client sends after it is read and
// dropped for kLinger at most; then the connection is closed. A client that
// stalls delays other scrapes by those seconds at most, and can never reach
// the FUSE threads: the thread touches no file of the view, only counters.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "fs/unique_fd.hpp"

namespace gw::gateway {

class MetricsService {
 public:
  static constexpr std::chrono::seconds kFileInterval{5};
  static constexpr std::chrono::seconds kHeadTimeout{2};
  static constexpr std::chrono::seconds kSendTimeout{10};
  static constexpr std::chrono::seconds kLinger{1};  // reading what a client still sends after the answer

  // `listen`: the listening socket (invalid: no endpoint); `file`: the path
  // (empty: no file); `render`: the page. Writes the file once before it
  // returns, so a file that cannot be written is an error at start
  // (ExitError, 1), not a warning later.
  MetricsService(fs::UniqueFd listen, std::string file, std::function<std::string()> render);
  MetricsService(const MetricsService&) = delete;
  MetricsService& operator=(const MetricsService&) = delete;
  ~MetricsService();  // stops; the file goes

 private:
  void run();
  void answer(int connection);
  void write_file();

  fs::UniqueFd listen_;
  const std::string file_;
  const std::function<std::string()> render_;
  fs::UniqueFd wake_;  // an eventfd: the destructor's stop
  bool file_failing_ = false;  // logged once per streak of failed writes
  std::thread thread_;
};

}  // namespace gw::gateway
