// A configuration problem: one line naming the source, the offending text
// and what would be valid.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gw::mapping {

struct Problem {
  std::string source;   // "SFTP_USERS item 2"
  std::string text;     // the offending text, verbatim
  std::string message;  // what is wrong and what would be valid

  // "SFTP_USERS item 2: 'root:0': user name 'root' is reserved; choose another name"
  // Always one line: every part goes through printable().
  std::string line() const;
};

using Problems = std::vector<Problem>;

// `text` made safe to show inside one line of a message or log: control bytes,
// bytes that are not well-formed UTF-8, and Unicode line separators and bidi
// controls become \xNN (\n, \r, \t, \\ for the common ones). Configuration
// and file names come from people, and a name must not be able to end a log
// line or forge the next one.
std::string printable(std::string_view text);

}  // namespace gw::mapping
