#include "values.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>
#include <vector>

#include "names.hpp"
#include "problem.hpp"

namespace gw::mapping {

namespace {

constexpr std::string_view size_hint =
    "give bytes with an optional suffix K, M, G or T (1024-based), e.g. 5G";

struct Suffix {
  std::string_view letters;  // upper case; the lower case letter reads the same
  unsigned shift;
};
constexpr std::array<Suffix, 4> suffixes{{{"K", 10}, {"M", 20}, {"G", 30}, {"T", 40}}};

// The problem line already quotes the whole item: a part of it is clipped.
std::string quoted(std::string_view text) { return "'" + clip(text, kQuotedPart) + "'"; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

template <typename T>
ValueRead<T> refused(std::string problem) {
  return ValueRead<T>{std::nullopt, std::move(problem)};
}

// The shift a suffix stands for: "" is 0, "G", "g" and "GiB" are 30.
std::optional<unsigned> suffix_shift(std::string_view suffix) {
  if (suffix.empty()) return 0u;
  if (suffix.size() == 3 && suffix.substr(1) == "iB") suffix.remove_suffix(2);
  if (suffix.size() != 1) return std::nullopt;
  const char upper = suffix[0] >= 'a' && suffix[0] <= 'z' ? static_cast<char>(suffix[0] - 'a' + 'A') : suffix[0];
  for (const Suffix& s : suffixes) {
    if (s.letters[0] == upper) return s.shift;
  }
  return std::nullopt;
}

// The decimal digits as a number no larger than kMaxAmount, or nullopt.
std::optional<std::uint64_t> decimal(std::string_view digits) {
  std::uint64_t value = 0;
  for (const char c : digits) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kMaxAmount - digit) / 10) return std::nullopt;  // checked before it could wrap
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace

ValueRead<std::uint64_t> read_size(std::string_view text, std::string_view what) {
  const std::string name(what);
  if (text.empty()) return refused<std::uint64_t>(name + " is empty; " + std::string(size_hint));
  const auto digits_end = std::find_if_not(text.begin(), text.end(), is_digit) - text.begin();
  const std::string_view digits = text.substr(0, static_cast<std::size_t>(digits_end));
  const std::string_view suffix = text.substr(static_cast<std::size_t>(digits_end));
  if (digits.empty()) {
    return refused<std::uint64_t>(name + " " + quoted(text) + " is not a size; " + std::string(size_hint));
  }
  const std::optional<unsigned> shift = suffix_shift(suffix);
  if (!shift) {
    return refused<std::uint64_t>(name + " " + quoted(text) + " has an unknown suffix " + quoted(suffix) + "; " +
                                  std::string(size_hint));
  }
  const std::optional<std::uint64_t> number = decimal(digits);
  if (number && *number == 0) {
    return refused<std::uint64_t>(name + " 0 would refuse every write; leave it out for no limit");
  }
  if (!number || *number > (kMaxAmount >> *shift)) {
    return refused<std::uint64_t>(name + " " + quoted(text) + " is too large; at most " + render_size(kMaxAmount >> 40 << 40));
  }
  return ValueRead<std::uint64_t>{*number << *shift, {}};
}

ValueRead<std::uint64_t> read_count(std::string_view text, std::string_view what) {
  const std::string name(what);
  const std::string hint = "give a decimal number from 1 to " + std::to_string(kMaxAmount);
  if (text.empty()) return refused<std::uint64_t>(name + " is empty; " + hint);
  if (!std::all_of(text.begin(), text.end(), is_digit)) {
    return refused<std::uint64_t>(name + " " + quoted(text) + " is not a decimal number; " + hint);
  }
  const std::optional<std::uint64_t> number = decimal(text);
  if (!number) return refused<std::uint64_t>(name + " " + quoted(text) + " is too large; " + hint);
  if (*number == 0) return refused<std::uint64_t>(name + " 0 would refuse every new file; leave it out for no limit");
  return ValueRead<std::uint64_t>{*number, {}};
}

ValueRead<std::uint32_t> read_umask(std::string_view text, std::string_view what) {
  const bool octal = std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
  // Four digits only with a leading 0: the setuid, setgid and sticky bits
  // are not the umask's to clear.
  if (!octal || text.size() < 3 || text.size() > 4 || (text.size() == 4 && text[0] != '0')) {
    return refused<std::uint32_t>(std::string(what) + " " + quoted(text) +
                                  " is not a umask; give 3 or 4 octal digits from 000 to 0777, e.g. 0027");
  }
  std::uint32_t value = 0;
  for (const char c : text) value = value * 8 + static_cast<std::uint32_t>(c - '0');
  return ValueRead<std::uint32_t>{value, {}};
}

ValueRead<EventKinds> read_event_kinds(std::string_view text, std::string_view what, char separator) {
  std::vector<std::string> names;
  for (int i = 0; i < kEventKinds; ++i) names.emplace_back(event_kind_name(static_cast<EventKind>(i)));
  std::string hint = "; give kinds joined by '" + std::string(1, separator) + "' from ";
  for (const std::string& name : names) hint += name + ", ";
  hint += "or none";
  const std::string name(what);
  if (text.empty()) return refused<EventKinds>(name + " is empty" + hint);
  if (text == "none") return ValueRead<EventKinds>{EventKinds{0}, {}};
  EventKinds kinds = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = std::min(text.find(separator, start), text.size());
    const std::string_view part = text.substr(start, end - start);
    const std::string said = name + " " + quoted(text);
    if (part.empty()) return refused<EventKinds>(said + " has an empty kind" + hint);
    if (part == "none") return refused<EventKinds>(said + ": none stands alone" + hint);
    const std::optional<EventKind> kind = find_event_kind(part);
    if (!kind) {
      std::string message = said + " names an unknown kind " + quoted(part);
      if (auto near = closest(part, names)) message += " (did you mean '" + *near + "'?)";
      return refused<EventKinds>(message + hint);
    }
    if (kinds & bit(*kind)) return refused<EventKinds>(said + " names " + quoted(part) + " twice" + hint);
    kinds = static_cast<EventKinds>(kinds | bit(*kind));
    if (end == text.size()) return ValueRead<EventKinds>{kinds, {}};
    start = end + 1;
  }
}

std::string render_size(std::uint64_t bytes) {
  for (auto it = suffixes.rbegin(); it != suffixes.rend(); ++it) {
    const std::uint64_t unit = std::uint64_t{1} << it->shift;
    if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + std::string(it->letters);
  }
  return std::to_string(bytes);
}

std::string render_umask(std::uint32_t umask) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", umask & 0777u);
  return text;
}

std::string render_limit(const Limit& limit) {
  std::string text;
  if (limit.bytes) text += "quota=" + render_size(*limit.bytes);
  if (limit.files) text += (text.empty() ? "files=" : ":files=") + std::to_string(*limit.files);
  return text;
}

}  // namespace gw::mapping
