#include <algorithm>
#include <array>

#include "gateway/check/output.hpp"
#include "gateway/quota_text.hpp"
#include "mapping/values.hpp"

namespace gw::gateway {
namespace {

template <std::size_t columns>
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

Row<7> node_row(const NodeReport& node) {
  const std::string stored = node.stored_from == StoredFrom::unknown ? "?" : owner_text(node.stored);
  return Row<7>{node.path,
                node.presented_name + " " + owner_text(node.presented),
                stored + " (" + std::string(stored_from_name(node.stored_from)) + ")",
                node.mode ? octal_mode(*node.mode) : "missing",
                node.umask ? mapping::render_umask(*node.umask) : "-",
                access_text(node),
                node.backing.empty() ? "-" : node.backing};
}

// What the folder holds against its limit; "?" where it could not be counted.
Row<4> limit_row(const LimitReport& limit) {
  std::string mappings;
  for (const std::string& m : limit.mappings) mappings += (mappings.empty() ? "" : ",") + m;
  if (!limit.usage) {
    const auto unknown = [](const std::optional<std::uint64_t>& most, auto render) {
      return most ? "? of " + render(*most) : std::string("?");
    };
    return Row<4>{limit.folder, unknown(limit.limit.bytes, mapping::render_size),
                  unknown(limit.limit.files, [](std::uint64_t n) { return std::to_string(n); }), mappings};
  }
  return Row<4>{limit.folder, bytes_usage(limit.usage->bytes, limit.limit.bytes),
                files_usage(limit.usage->files, limit.limit.files), mappings};
}

template <std::size_t columns>
void print_table(const std::vector<Row<columns>>& rows, std::ostream& out) {
  std::array<std::size_t, columns> width{};
  for (const Row<columns>& row : rows) {
    for (std::size_t c = 0; c < columns; ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const Row<columns>& row : rows) {
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
    std::vector<Row<7>> rows{Row<7>{"PATH", "PRESENTED", "STORED", "MODE", "UMASK", "ACCESS", "BACKING"}};
    for (const NodeReport& node : user.nodes) rows.push_back(node_row(node));
    print_table(rows, out);
    out << '\n';
  }
  if (!report.limits.empty()) {
    out << "limits (usage counted now)\n";
    std::vector<Row<4>> rows{Row<4>{"FOLDER", "BYTES", "FILES", "MAPPINGS"}};
    for (const LimitReport& limit : report.limits) rows.push_back(limit_row(limit));
    print_table(rows, out);
    out << '\n';
  }
  for (const Warning& warning : report.warnings) out << "warning: " << warning.subject << ": " << warning.message << '\n';
  out << "ok: " << plural(report.users.size(), "user") << ", " << plural(report.mount_count(), "mount") << ", "
      << plural(report.warnings.size(), "warning") << '\n';
}

}  // namespace gw::gateway
