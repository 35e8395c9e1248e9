// The config file (--config): `key = value` lines, `#` comments. Boost parses
// the values; this scan of the same text keeps what Boost drops, the line
// numbers, so errors can say "gateway.conf line 7".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gw::gateway {

struct ConfigEntry {
  int line = 0;  // 1-based
  std::string key;
  std::string value;
};

struct ConfigFile {
  std::string path;
  std::string name;  // the file's basename, as messages name it
  std::string text;
  std::vector<ConfigEntry> entries;  // in file order, one per `key = value` line
  // One line each for the lines Boost would reject or misread, naming the
  // line; their entries are left out, so every other line is still read.
  std::vector<std::string> problems;

  // The line of the n-th (0-based) entry with this key; 0 when there is none.
  int line_of(std::string_view key, std::size_t occurrence = 0) const;
  // The lines of every entry with this key, in file order (one pass: a
  // file of 40,000 `map` lines must not be scanned once per line).
  std::vector<int> lines_of(std::string_view key) const;
  // "gateway.conf line 7"
  std::string where(int line) const;
  // The entries as `key=value` lines: what Boost parses. Boost never sees a
  // line the scan refused nor a list key's line (is_list_key), and the k-th
  // entry of a key is the k-th option Boost reports for it.
  std::string entries_text() const;
};

// `users` and `map`: read from the scan's entries (sources.hpp,
// source_items), never given to Boost, which matched each of 400,000 such
// lines against every option at 100,000 users. Their values are free text
// that mapping::parse checks, so Boost had nothing to refuse in them.
bool is_list_key(std::string_view key);

// Scans text with the rules Boost applies (strip from `#`, trim blanks, skip
// empty lines). A line Boost would reject or misread (no `=`, empty key, a
// `[section]` header) becomes a problem naming the line.
ConfigFile scan_config(std::string path, std::string text);

// Reads and scans a file; a missing or unreadable file is a UsageError.
ConfigFile read_config_file(const std::string& path);

}  // namespace gw::gateway
