#include <algorithm>
#include <array>

#include "gateway/check/output.hpp"

namespace gw::gateway {
namespace {

constexpr std::size_t columns = 6;
using Row = std::array<std::string, columns>;

std::string owner_text(const mapping::Owner& owner) {
  return std::to_string(owner.uid) + ":" + std::to_string(owner.gid);
}

std::string access_text(const NodeReport& node) {
  if (node.kind == NodeKind::synthetic) return "-";
  if (node.kind == NodeKind::home) return "rw";
  std::string text;
  for (const std::string& word : option_words(*node.mount)) text += (text.empty() ? "" : ",") + word;
  return text;
}

Row node_row(const NodeReport& node) {
  const std::string stored = node.stored_from == StoredFrom::unknown ? "?" : owner_text(node.stored);
  return Row{node.path,
             node.presented_name + " " + owner_text(node.presented),
             stored + " (" + std::string(stored_from_name(node.stored_from)) + ")",
             node.mode ? octal_mode(*node.mode) : "missing",
             access_text(node),
             node.backing.empty() ? "-" : node.backing};
}

void print_table(const std::vector<Row>& rows, std::ostream& out) {
  std::array<std::size_t, columns> width{};
  for (const Row& row : rows) {
    for (std::size_t c = 0; c < columns; ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const Row& row : rows) {
    out << "  ";
    for (std::size_t c = 0; c + 1 < columns; ++c) out << row[c] << std::string(width[c] - row[c].size() + 2, ' ');
    out << row[columns - 1] << '\n';
  }
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

void print_text(const CheckReport& report, std::ostream& out) {
  for (const UserReport& user : report.users) {
    out << "user " << user.user.name << " (uid " << user.user.uid << ", gid " << user.user.gid << ")\n";
    std::vector<Row> rows{Row{"PATH", "PRESENTED", "STORED", "MODE", "ACCESS", "BACKING"}};
    for (const NodeReport& node : user.nodes) rows.push_back(node_row(node));
    print_table(rows, out);
    out << '\n';
  }
  for (const Warning& warning : report.warnings) out << "warning: " << warning.subject << ": " << warning.message << '\n';
  out << "ok: " << plural(report.users.size(), "user") << ", " << plural(report.mount_count(), "mount") << ", "
      << plural(report.warnings.size(), "warning") << '\n';
}

}  // namespace gw::gateway
