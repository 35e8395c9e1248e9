// Helpers of the event spool and courier tests: events made to order, the
// spool's files read back, waiting for a condition with a deadline.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_support.hpp"
#include "fs/event.hpp"
#include "gateway/events/spool_dir.hpp"
#include "gateway/events/spool_writer.hpp"

namespace gw::test {

// An upload of `path` in `mapping` (user ryan).
inline fs::Event upload(const std::string& mapping, const std::string& path, std::uint64_t size = 5) {
  fs::Event e;
  e.kind = fs::EventKind::upload;
  e.user = "ryan";
  e.mapping = mapping;
  e.volume = "files";
  e.path = "/ryan/" + path;
  e.volume_path = path;
  e.size = size;
  return e;
}

inline std::string spool_of(const TempDir& state) { return state / "events"; }

inline std::string segment_file(const TempDir& state, std::uint64_t number) {
  return spool_of(state) + "/" + gateway::segment_name(number);
}

// Every line of every segment, oldest first.
inline std::vector<std::string> spooled_lines(const TempDir& state) {
  std::vector<std::string> out;
  const fs::UniqueFd spool = gateway::open_spool(state.path().string());
  for (const gateway::Segment& s : gateway::list_segments(spool.get()))
    for (const std::string& line : lines(read_text(segment_file(state, s.number)))) out.push_back(line);
  return out;
}

// True once `done` holds, false when `most` passed first.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds most = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + most;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace gw::test
