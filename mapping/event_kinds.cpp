#include "event_kinds.hpp"

#include <array>
#include <cstddef>

namespace gw::mapping {
namespace {

// In the enum's order: a kind's name is kNames[kind].
constexpr std::array<std::string_view, kEventKinds> kNames = {"upload", "remove", "rename", "mkdir", "refusal"};
static_assert(static_cast<int>(EventKind::refusal) + 1 == kEventKinds, "one name per EventKind");

}  // namespace

std::string_view event_kind_name(EventKind kind) { return kNames[static_cast<std::size_t>(kind)]; }

std::optional<EventKind> find_event_kind(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<EventKind>(i);
  return std::nullopt;
}

std::string render_event_kinds(EventKinds kinds, char separator) {
  std::string text;
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (!(kinds & bit(static_cast<EventKind>(i)))) continue;
    if (!text.empty()) text += separator;
    text += kNames[i];
  }
  return text.empty() ? "none" : text;
}

}  // namespace gw::mapping
