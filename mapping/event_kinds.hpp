// The kinds of event the view reports (what happened: fs/event.hpp has the
// events themselves). They live in the model because configuration names
// them: a rule's events=KINDS and the gateway's --event-kinds choose which
// kinds a mapping reports. One list of names, here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw::mapping {

enum class EventKind : std::uint8_t { upload, remove, rename, mkdir, refusal };
inline constexpr int kEventKinds = 5;

// "upload", "remove", "rename", "mkdir", "refusal".
std::string_view event_kind_name(EventKind kind);
std::optional<EventKind> find_event_kind(std::string_view name);

// A set of kinds, one bit each (what a mapping or the gateway wants).
using EventKinds = std::uint8_t;
constexpr EventKinds bit(EventKind kind) { return static_cast<EventKinds>(1u << static_cast<unsigned>(kind)); }
inline constexpr EventKinds kAllEventKinds = static_cast<EventKinds>((1u << kEventKinds) - 1);

// The set's names joined by `separator` in the enum's order ("upload+remove"
// with '+'), "none" for the empty set.
std::string render_event_kinds(EventKinds kinds, char separator);

}  // namespace gw::mapping
