// One sink's reading of the event spool (spool_dir.hpp), from its cursor
// on, in spool order: segment after segment, line after line, each line
// parsed into a SpooledEvent. Used by that sink's courier alone.
//
// The newest segment may end in a line still being written (one write(2),
// but a reader may see part of it): reading stops there and goes on when
// more arrives. A segment that is not the newest is complete (its writer
// moved on, or died): a last line without its newline there is a torn
// write, skipped and logged, as is a line that is not an event.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fs/unique_fd.hpp"
#include "gateway/events/sink.hpp"
#include "gateway/events/spool_dir.hpp"

namespace gw::gateway {

// An event and where its line lies: a cursor at `start` delivers it again,
// one at `end` has passed it.
struct SpooledLine {
  SpooledEvent event;
  SpoolPosition start;
  SpoolPosition end;
};

class SpoolReader {
 public:
  // `spool`: the spool folder's fd, which outlives the reader.
  SpoolReader(int spool, SpoolPosition from);

  // Up to `most` further events, as far as the spool holds complete lines,
  // stopping once their lines passed `most_bytes` (the first is taken
  // whatever its size); none when there is nothing new.
  std::vector<SpooledLine> read(std::size_t most, std::size_t most_bytes = SIZE_MAX);

  // Where reading goes on: past every event read and every line skipped.
  SpoolPosition position() const { return at_; }

 private:
  bool later_segment_exists() const;
  // Moves to the first segment after the current one; false when there is
  // none yet.
  bool next_segment();
  // Appends the segment's next bytes to buf_.
  enum class Read { more, end, failed };
  Read read_more();
  void take_line(std::string_view line, std::vector<SpooledLine>& out);

  const int spool_;
  SpoolPosition at_;
  fs::UniqueFd fd_;        // the segment at_.segment, once opened
  std::string buf_;        // bytes of that segment read ahead ...
  std::size_t used_ = 0;   // ... of which those before used_ are behind at_
};

// The event in one spool line (without its newline); false when the line is
// not an event: not a JSON object, or without a string "id" and "kind".
bool parse_spooled(std::string_view line, SpooledEvent* event);

}  // namespace gw::gateway
