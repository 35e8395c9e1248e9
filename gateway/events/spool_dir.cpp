#include "gateway/events/spool_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "gateway/atomic_file.hpp"
#include "gateway/exit_codes.hpp"

namespace gw::gateway {
namespace {

constexpr std::string_view kSegmentSuffix = ".jsonl";
constexpr std::string_view kCursorSuffix = ".cursor";
constexpr std::size_t kSegmentDigits = 20;

// `err` is read by the caller before the message is built, which may change errno.
[[noreturn]] void fail(int err, const std::string& what) {
  throw ExitError(exit_code::failure, "event spool: " + what + ": " + std::strerror(err));
}

// Every name in the folder (".", ".." and temporaries left out).
std::vector<std::string> names_in(int spool) {
  std::vector<std::string> names;
  const int fd = ::openat(spool, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return names;
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return names;
  }
  while (const struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  return names;
}

std::optional<std::string_view> cursor_sink(std::string_view name) {
  if (!name.ends_with(kCursorSuffix) || name.size() == kCursorSuffix.size()) return std::nullopt;
  return name.substr(0, name.size() - kCursorSuffix.size());
}

// "<segment> <offset>\n", nothing else.
std::optional<SpoolPosition> parse_cursor(std::string_view text) {
  SpoolPosition at;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, at.segment);
  if (ec != std::errc() || p == end || *p != ' ') return std::nullopt;
  auto [q, ec2] = std::from_chars(p + 1, end, at.offset);
  if (ec2 != std::errc() || q + 1 != end || *q != '\n') return std::nullopt;
  return at;
}

// The lines of the segment from byte `from` on.
std::uint64_t lines_from(int spool, std::uint64_t number, std::uint64_t from) {
  const fs::UniqueFd fd(::openat(spool, segment_name(number).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  std::uint64_t lines = 0;
  char buf[65536];
  for (off_t at = static_cast<off_t>(from); fd.valid();) {
    const ssize_t n = ::pread(fd.get(), buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    lines += static_cast<std::uint64_t>(std::count(buf, buf + n, '\n'));
    at += n;
  }
  return lines;
}

}  // namespace

std::string spool_path(const std::string& state_dir) { return state_dir + "/events"; }

std::string segment_name(std::uint64_t number) {
  std::string digits = std::to_string(number);
  return std::string(kSegmentDigits - std::min(digits.size(), kSegmentDigits), '0') + digits + std::string(kSegmentSuffix);
}

std::optional<std::uint64_t> segment_number(std::string_view name) {
  if (name.size() != kSegmentDigits + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  std::uint64_t number = 0;
  const auto [p, ec] = std::from_chars(name.data(), name.data() + kSegmentDigits, number);
  if (ec != std::errc() || p != name.data() + kSegmentDigits) return std::nullopt;
  return number;
}

std::string cursor_name(std::string_view sink) { return std::string(sink) + std::string(kCursorSuffix); }

fs::UniqueFd open_spool(const std::string& state_dir) {
  std::error_code ec;
  if (!std::filesystem::exists(state_dir, ec)) {
    std::filesystem::create_directories(state_dir, ec);
    if (ec || ::chmod(state_dir.c_str(), 0700) != 0)
      throw ExitError(exit_code::failure, "event spool: cannot create the state folder " + state_dir);
  }
  const fs::UniqueFd state(::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (const int e = errno; !state.valid()) fail(e, "cannot open the state folder " + state_dir);
  if (::mkdirat(state.get(), "events", 0700) != 0 && errno != EEXIST) {
    const int e = errno;
    fail(e, "cannot create " + spool_path(state_dir));
  }
  fs::UniqueFd spool(::openat(state.get(), "events", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (const int e = errno; !spool.valid()) fail(e, "cannot open " + spool_path(state_dir));
  // Events name users' files: no one but root reads them.
  if (::fchmod(spool.get(), 0700) != 0) {
    const int e = errno;
    fail(e, "cannot make " + spool_path(state_dir) + " private");
  }
  return spool;
}

std::vector<Segment> list_segments(int spool) {
  std::vector<Segment> segments;
  for (const std::string& name : names_in(spool)) {
    const auto number = segment_number(name);
    struct stat st {};
    if (!number || ::fstatat(spool, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    segments.push_back({*number, static_cast<std::uint64_t>(st.st_size)});
  }
  std::sort(segments.begin(), segments.end(), [](const Segment& a, const Segment& b) { return a.number < b.number; });
  return segments;
}

std::optional<SpoolPosition> read_cursor(int spool, std::string_view sink, bool* unreadable) {
  if (unreadable) *unreadable = false;
  const fs::UniqueFd fd(::openat(spool, cursor_name(sink).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (unreadable) *unreadable = errno != ENOENT;
    return std::nullopt;
  }
  char buf[64];
  const ssize_t n = ::read(fd.get(), buf, sizeof buf);
  const auto at = n > 0 ? parse_cursor(std::string_view(buf, static_cast<std::size_t>(n))) : std::nullopt;
  if (!at && unreadable) *unreadable = true;
  return at;
}

std::vector<SpoolPosition> read_all_cursors(int spool) {
  std::vector<SpoolPosition> cursors;
  for (const std::string& name : names_in(spool)) {
    if (const auto sink = cursor_sink(name))
      if (const auto at = read_cursor(spool, *sink)) cursors.push_back(*at);
  }
  return cursors;
}

void write_cursor(int spool, std::string_view sink, SpoolPosition at) {
  const std::string name = cursor_name(sink);
  replace_file_at(spool, name, std::to_string(at.segment) + " " + std::to_string(at.offset) + "\n", 0600,
                  "the event cursor " + name);
}

void prepare_cursors(int spool, const std::vector<std::string>& sinks) {
  for (const std::string& name : names_in(spool)) {
    const auto sink = cursor_sink(name);
    if (!sink || std::find(sinks.begin(), sinks.end(), *sink) != sinks.end()) continue;
    if (::unlinkat(spool, name.c_str(), 0) != 0 && errno != ENOENT) {
      const int e = errno;
      fail(e, "cannot remove " + name);
    }
    spdlog::info("event sink {} is no longer configured: its cursor is removed", *sink);
  }
  const std::vector<Segment> segments = list_segments(spool);
  const SpoolPosition end = segments.empty() ? SpoolPosition{} : SpoolPosition{segments.back().number, segments.back().size};
  for (const std::string& sink : sinks) {
    bool unreadable = false;
    if (read_cursor(spool, sink, &unreadable)) continue;
    if (unreadable) {
      spdlog::warn("event sink {}: its cursor cannot be read; delivering from the oldest event kept", sink);
      write_cursor(spool, sink, SpoolPosition{});
    } else {
      write_cursor(spool, sink, end);
    }
  }
}

std::size_t remove_passed_segments(int spool, const std::vector<std::string>& sinks) {
  std::uint64_t passed = UINT64_MAX;  // every segment below this one is behind every cursor
  for (const std::string& sink : sinks) {
    const auto at = read_cursor(spool, sink);
    if (!at) return 0;  // a sink whose place is not known holds everything
    passed = std::min(passed, at->segment);
  }
  const std::vector<Segment> segments = list_segments(spool);
  std::size_t removed = 0;
  for (const Segment& s : segments) {
    if (s.number >= passed || s.number == segments.back().number) break;
    if (::unlinkat(spool, segment_name(s.number).c_str(), 0) == 0) ++removed;
    else if (const int e = errno; e != ENOENT) spdlog::warn("event spool: cannot remove {}: {}", segment_name(s.number), std::strerror(e));
  }
  return removed;
}

std::vector<SinkBacklog> spool_backlog(const std::string& state_dir) {
  std::vector<SinkBacklog> out;
  const fs::UniqueFd spool(::open(spool_path(state_dir).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!spool.valid()) return out;
  const std::vector<Segment> segments = list_segments(spool.get());
  std::vector<std::string> names = names_in(spool.get());
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const auto sink = cursor_sink(name);
    const auto at = sink ? read_cursor(spool.get(), *sink) : std::nullopt;
    if (!at) continue;
    SinkBacklog b{std::string(*sink), 0};
    for (const Segment& s : segments)
      if (s.number >= at->segment) b.pending += lines_from(spool.get(), s.number, s.number == at->segment ? at->offset : 0);
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace gw::gateway
