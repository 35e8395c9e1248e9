// A configuration problem: one line naming the source, the offending text
// and what would be valid.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gw::mapping {

struct Problem {
  std::string source;   // "SFTP_USERS item 2", "mountpoint", "ryan:web"; may be empty
  std::string text;     // the offending text, verbatim; may be empty
  std::string message;  // what is wrong and what would be valid

  // "SFTP_USERS item 2: 'root:0': user name 'root' is reserved; choose another name",
  // or without text "ryan:web: cannot open /v/web: No such file or directory".
  // Always one line: every part goes through printable(), and at most
  // kQuoted bytes of the text are shown (see excerpt()).
  std::string line() const;
};

using Problems = std::vector<Problem>;

// `text` made safe to show inside one line of a message or log: control bytes,
// bytes that are not well-formed UTF-8, and Unicode line separators and bidi
// controls become \xNN (\n, \r, \t, \\ for the common ones). Configuration
// and file names come from people, and a name must not be able to end a log
// line or forge the next one.
std::string printable(std::string_view text);

// How much of someone's input a message quotes: a line of 10 KB (a pasted
// key, a runaway value) must not become a 10 KB log line.
inline constexpr std::size_t kQuoted = 200;
// A part of that input named inside an explanation ("subdir '...'").
inline constexpr std::size_t kQuotedPart = 64;

// The first `limit` bytes of text, cut before a UTF-8 continuation byte and
// followed by "..." when anything was cut. Not escaped: for text that goes
// into a message which is made printable() as a whole.
std::string clip(std::string_view text, std::size_t limit = kQuoted);

// printable(clip(text)): at most `limit` bytes of the input, safe to show.
std::string excerpt(std::string_view text, std::size_t limit = kQuoted);

}  // namespace gw::mapping
