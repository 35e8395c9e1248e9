#include "gateway/options/config_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gateway/exit_codes.hpp"
#include "mapping/problem.hpp"

namespace gw::gateway {
namespace {

// The characters Boost's config parser trims (trim_ws).
constexpr std::string_view blanks = " \t\r\n";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(blanks);
  return s.substr(first, last - first + 1);
}

// One physical line; returns false for a line without content or with a
// problem (added to file.problems).
bool scan_line(ConfigFile& file, int number, std::string_view line, ConfigEntry& entry) {
  if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
  line = trim(line);
  if (line.empty()) return false;
  const auto problem = [&](const std::string& what) {
    file.problems.push_back(file.where(number) + ": " + what);
    return false;
  };
  // Boost would prefix later keys with the section name, turning them into
  // unknown keys with a confusing name; say what is wrong instead.
  if (line.front() == '[') return problem("sections are not supported: '" + mapping::excerpt(line) + "'");
  const auto eq = line.find('=');
  if (eq == std::string_view::npos) return problem("expected `key = value`, got '" + mapping::excerpt(line) + "'");
  entry.line = number;
  entry.key = std::string(trim(line.substr(0, eq)));
  entry.value = std::string(trim(line.substr(eq + 1)));
  if (entry.key.empty()) return problem("missing key before '='");
  return true;
}

}  // namespace

int ConfigFile::line_of(std::string_view key, std::size_t occurrence) const {
  for (const ConfigEntry& e : entries) {
    if (e.key != key) continue;
    if (occurrence == 0) return e.line;
    --occurrence;
  }
  return 0;
}

std::vector<int> ConfigFile::lines_of(std::string_view key) const {
  std::vector<int> lines;
  for (const ConfigEntry& e : entries)
    if (e.key == key) lines.push_back(e.line);
  return lines;
}

std::string ConfigFile::where(int line) const { return mapping::printable(name) + " line " + std::to_string(line); }

std::string ConfigFile::entries_text() const {
  std::string out;
  for (const ConfigEntry& e : entries)
    if (!is_list_key(e.key)) out += e.key + "=" + e.value + "\n";
  return out;
}

bool is_list_key(std::string_view key) { return key == "users" || key == "map"; }

ConfigFile scan_config(std::string path, std::string text) {
  ConfigFile file;
  file.name = std::filesystem::path(path).filename().string();
  file.path = std::move(path);
  file.text = std::move(text);
  std::istringstream in(file.text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    ConfigEntry entry;
    if (scan_line(file, number, line, entry)) file.entries.push_back(std::move(entry));
  }
  return file;
}

ConfigFile read_config_file(const std::string& path) {
  // A directory opens fine as an ifstream and then reads nothing; name it.
  std::error_code ec;
  const std::string shown = mapping::excerpt(path);
  if (std::filesystem::is_directory(path, ec)) throw UsageError("config file '" + shown + "' is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read config file '" + shown + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw UsageError("cannot read config file '" + shown + "': " + std::strerror(errno));
  return scan_config(path, text.str());
}

}  // namespace gw::gateway
