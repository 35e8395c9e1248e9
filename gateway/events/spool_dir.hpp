// The event spool's folder, <state-dir>/events (0700, root): segments named
// "<20-digit number>.jsonl", each line one event, appended by the FUSE
// worker (spool_writer.hpp); and one "<sink>.cursor" per sink, holding
// "<segment> <offset>\n", where that sink's courier (courier.hpp) goes on.
// What the writer and the couriers both need to know of it is here.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fs/unique_fd.hpp"

namespace gw::gateway {

// A place in the spool: a byte offset in a segment. Cursors hold one.
struct SpoolPosition {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  auto operator<=>(const SpoolPosition&) const = default;
};

struct Segment {
  std::uint64_t number = 0;
  std::uint64_t size = 0;
};

std::string spool_path(const std::string& state_dir);  // <state-dir>/events
std::string segment_name(std::uint64_t number);         // "00000000000000000042.jsonl"
std::optional<std::uint64_t> segment_number(std::string_view name);
std::string cursor_name(std::string_view sink);         // "<sink>.cursor"

// Opens the spool folder, making it (and the state folder) 0700 when
// missing; a symlink in its place is refused. The path comes from trusted
// configuration; everything after is relative to the fd. Throws ExitError.
fs::UniqueFd open_spool(const std::string& state_dir);

// The segments, oldest first (a folder that cannot be read: none).
std::vector<Segment> list_segments(int spool);

// A sink's cursor; nullopt when it has none, `unreadable` set when it has
// one that cannot be read or parsed.
std::optional<SpoolPosition> read_cursor(int spool, std::string_view sink, bool* unreadable = nullptr);
// Every cursor in the folder, whichever sink it belongs to.
std::vector<SpoolPosition> read_all_cursors(int spool);
// Replaces the cursor whole (atomic_file.hpp). Throws ExitError.
void write_cursor(int spool, std::string_view sink, SpoolPosition at);

// Readies the cursors before the first worker starts: a sink without one
// starts at the end of the spool (it gets the events from now on); one
// whose cursor cannot be read starts at the oldest segment (delivered
// twice rather than lost); the cursor of a sink no longer configured is
// removed (it forgets its place). Throws ExitError.
void prepare_cursors(int spool, const std::vector<std::string>& sinks);

// Removes every segment that all of `sinks` have passed (their cursors are
// in later segments), never the newest. Returns how many it removed.
std::size_t remove_passed_segments(int spool, const std::vector<std::string>& sinks);

// What each sink with a cursor has not had yet: the events (lines) after
// its cursor, for `gateway status`. Reads, never makes, the folder: none
// without one.
struct SinkBacklog {
  std::string sink;
  std::uint64_t pending = 0;
};
std::vector<SinkBacklog> spool_backlog(const std::string& state_dir);

}  // namespace gw::gateway
