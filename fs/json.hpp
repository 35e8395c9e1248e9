// JSON string literals, the one way: the audit trail (fs/audit.cpp) and the
// gateway's machine-readable outputs (gateway/json_writer) both quote here.
#pragma once

#include <string>
#include <string_view>

namespace gw::fs {

// `text` as a JSON string literal, quotes included. Quotes, backslashes and
// every control byte (DEL too) are escaped, so a name can neither end a line
// nor forge a field; bytes that are not well-formed UTF-8 (possible in file
// names) become U+FFFD, so the document stays valid JSON.
std::string json_quote(std::string_view text);

// The same, appended to `out`.
void append_json_quoted(std::string& out, std::string_view text);

}  // namespace gw::fs
