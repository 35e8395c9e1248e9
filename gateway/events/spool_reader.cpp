#include "gateway/events/spool_reader.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "fs/event.hpp"

namespace gw::gateway {
namespace {

constexpr std::size_t kChunk = 65536;

// A string member of `j`, or "" when it has none; false when it is there
// but not a string.
bool string_member(const nlohmann::json& j, const char* key, std::string* out) {
  const auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

}  // namespace

bool parse_spooled(std::string_view line, SpooledEvent* event) {
  const nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return false;
  SpooledEvent e;
  if (!string_member(j, "id", &e.id) || !string_member(j, "kind", &e.kind) || !string_member(j, "mapping", &e.mapping))
    return false;
  // Both become HTTP headers: a kind the view never makes, or an id of
  // other characters than the writer's, is no event of ours.
  if (!fs::find_event_kind(e.kind)) return false;
  if (e.id.empty() || e.id.find_first_not_of("0123456789abcdef-") != std::string::npos) return false;
  e.json = line;
  *event = std::move(e);
  return true;
}

SpoolReader::SpoolReader(int spool, SpoolPosition from) : spool_(spool), at_(from) {}

std::vector<SpooledLine> SpoolReader::read(std::size_t most, std::size_t most_bytes) {
  std::vector<SpooledLine> out;
  std::size_t bytes = 0;  // of the lines taken: the first is taken whatever its size
  bool complete = false;  // the segment is known not to be the newest: nothing more will come to it
  while (out.size() < most && bytes < most_bytes) {
    if (!fd_.valid()) {
      fd_.reset(::openat(spool_, segment_name(at_.segment).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (const int e = errno; !fd_.valid() && e != ENOENT) {  // tried again later: never skipped over
        spdlog::warn("event spool: cannot open {}: {}", segment_name(at_.segment), std::strerror(e));
        return out;
      }
      if (!fd_.valid()) {  // passed by every sink, dropped over the limit, or not made yet
        if (!next_segment()) return out;
        continue;
      }
    }
    const std::size_t newline = buf_.find('\n', used_);
    if (newline != std::string::npos) {
      take_line(std::string_view(buf_).substr(used_, newline - used_), out);
      bytes += newline - used_;
      at_.offset += newline + 1 - used_;
      used_ = newline + 1;
      continue;
    }
    const Read got = read_more();
    if (got == Read::more) continue;
    if (got == Read::failed) {  // tried again later, opened anew: never taken for the segment's end
      fd_.reset();
      buf_.clear();
      used_ = 0;
      return out;
    }
    if (!complete) {
      // A later segment means this one's writer has moved on (or died):
      // what it holds now is all it will hold. Read it to its end once more.
      if (!later_segment_exists()) return out;
      complete = true;
      continue;
    }
    if (used_ < buf_.size()) {
      spdlog::warn("event spool: segment {} ends in a torn line at offset {} ({} bytes); skipped",
                   segment_name(at_.segment), at_.offset, buf_.size() - used_);
      at_.offset += buf_.size() - used_;
    }
    if (!next_segment()) return out;
    complete = false;
  }
  return out;
}

SpoolReader::Read SpoolReader::read_more() {
  buf_.erase(0, used_);
  used_ = 0;
  const std::size_t had = buf_.size();
  buf_.resize(had + kChunk);
  ssize_t n = 0;
  do n = ::pread(fd_.get(), buf_.data() + had, kChunk, static_cast<off_t>(at_.offset + had));
  while (n < 0 && errno == EINTR);
  const int err = errno;
  buf_.resize(had + static_cast<std::size_t>(n > 0 ? n : 0));
  if (n < 0) spdlog::warn("event spool: cannot read {}: {}", segment_name(at_.segment), std::strerror(err));
  return n > 0 ? Read::more : n == 0 ? Read::end : Read::failed;
}

bool SpoolReader::later_segment_exists() const {
  const std::vector<Segment> segments = list_segments(spool_);
  return !segments.empty() && segments.back().number > at_.segment;
}

bool SpoolReader::next_segment() {
  for (const Segment& s : list_segments(spool_)) {
    if (s.number <= at_.segment) continue;
    at_ = {s.number, 0};
    fd_.reset();
    buf_.clear();
    used_ = 0;
    return true;
  }
  return false;
}

void SpoolReader::take_line(std::string_view line, std::vector<SpooledLine>& out) {
  SpooledLine l;
  l.start = at_;
  l.end = {at_.segment, at_.offset + line.size() + 1};
  if (parse_spooled(line, &l.event)) {
    out.push_back(std::move(l));
    return;
  }
  spdlog::warn("event spool: segment {} offset {}: not an event ({} bytes); skipped", segment_name(at_.segment),
               at_.offset, line.size());
}

}  // namespace gw::gateway
