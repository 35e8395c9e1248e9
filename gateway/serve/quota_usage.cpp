#include "gateway/serve/quota_usage.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace gw::gateway {
namespace {

namespace pt = boost::property_tree;

// Boost's JSON reader keeps every scalar as its text: a number is its
// digits, null is "null", true is "true". The checks below put the types
// back.
struct Malformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const pt::ptree& child(const pt::ptree& tree, const std::string& key) {
  const auto found = tree.get_child_optional(key);
  if (!found) throw Malformed("no \"" + key + "\"");
  return *found;
}

std::string scalar(const pt::ptree& tree, const std::string& key) {
  const pt::ptree& value = child(tree, key);
  if (!value.empty()) throw Malformed("\"" + key + "\" is not a value");
  return value.data();
}

std::uint64_t number(const std::string& text, const std::string& key) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
    throw Malformed("\"" + key + "\" is not a count: " + text.substr(0, 32));
  return std::stoull(text);
}

std::optional<std::uint64_t> limit(const pt::ptree& tree, const std::string& key) {
  const std::string text = scalar(tree, key);
  if (text == "null") return std::nullopt;
  return number(text, key);
}

// An array is a tree whose children have empty keys; so is an empty object,
// which Boost cannot tell from [].
const pt::ptree& array(const pt::ptree& tree, const std::string& key) {
  const pt::ptree& value = child(tree, key);
  for (const auto& [name, item] : value) {
    if (!name.empty()) throw Malformed("\"" + key + "\" is not a list");
  }
  if (value.empty() && !value.data().empty()) throw Malformed("\"" + key + "\" is not a list");
  return value;
}

FolderUsage folder(const pt::ptree& tree) {
  FolderUsage f;
  f.folder = scalar(tree, "folder");
  for (const auto& [name, item] : array(tree, "mappings")) {
    if (!item.empty()) throw Malformed("a mapping is not a name");
    f.mappings.push_back(item.data());
  }
  f.bytes = number(scalar(tree, "bytes"), "bytes");
  f.bytes_limit = limit(tree, "bytes_limit");
  f.files = number(scalar(tree, "files"), "files");
  f.files_limit = limit(tree, "files_limit");
  const std::string counted = scalar(tree, "counted");
  if (counted != "true" && counted != "false") throw Malformed("\"counted\" is not true or false");
  f.counted = counted == "true";
  const std::string at = tree.get_optional<std::string>("counted_at").value_or("null");
  f.counted_at = at == "null" ? "" : at;
  return f;
}

}  // namespace

QuotaUsage parse_quota_usage(std::string_view json) {
  QuotaUsage usage;
  try {
    std::istringstream in{std::string(json)};
    pt::ptree tree;
    pt::read_json(in, tree);
    for (const auto& [name, item] : array(tree, "folders")) usage.folders.push_back(folder(item));
  } catch (const pt::json_parser_error& e) {
    usage.problem = "not JSON: " + e.message() + " at line " + std::to_string(e.line());
  } catch (const Malformed& e) {
    usage.problem = e.what();
  }
  if (!usage.problem.empty()) usage.folders.clear();
  return usage;
}

std::optional<QuotaUsage> read_quota_usage(const std::string& state_dir) {
  const std::string path = state_dir + "/quota.json";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::nullopt;
  std::string text;
  int err = fd < 0 ? errno : 0;
  char buf[65536];
  for (ssize_t n = 0; err == 0 && (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n > 0) text.append(buf, static_cast<std::size_t>(n));
    else if (errno != EINTR) err = errno;
  }
  if (fd >= 0) ::close(fd);
  if (err != 0) return QuotaUsage{{}, "cannot read " + path + ": " + std::strerror(err)};
  QuotaUsage usage = parse_quota_usage(text);
  if (!usage.problem.empty()) usage.problem = path + ": " + usage.problem;
  return usage;
}

}  // namespace gw::gateway
