// What happened in the view that someone may want to react to (an upload
// published, a file removed, ...): the facts the view knows at that moment,
// handed to an EventLog the gateway supplies. The view never delivers an
// event itself: the gateway spools it (gateway/events/), and the
// supervisor, which outlives a worker, delivers it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw::fs {

enum class EventKind : std::uint8_t { upload, remove, rename, mkdir, refusal };
inline constexpr int kEventKinds = 5;

// "upload", "remove", "rename", "mkdir", "refusal".
std::string_view event_kind_name(EventKind kind);
std::optional<EventKind> find_event_kind(std::string_view name);

// A set of kinds, one bit each (what a mapping or the gateway wants).
using EventKinds = std::uint8_t;
constexpr EventKinds bit(EventKind kind) { return static_cast<EventKinds>(1u << static_cast<unsigned>(kind)); }
inline constexpr EventKinds kAllEventKinds = (1u << kEventKinds) - 1;

// Everything one event says; strings empty and optionals unset are left out
// of its JSON.
struct Event {
  EventKind kind = EventKind::upload;
  std::string user;         // the sftp user
  std::string mapping;      // the mapping's label, "ryan:web"
  std::string volume;       // the rule's volume; "" for the user's home
  std::string path;         // in the user's view, "/ryan/web/site/a.html"
  std::string volume_path;  // relative to the volume's root (the home's, for a home), "site/a.html"
  std::string to;           // a rename's destination, in the user's view
  std::string to_volume_path;
  std::optional<std::uint64_t> size;  // bytes, for an upload
  std::optional<bool> replaced;       // an upload that replaced a file
  std::string type;         // a removal's: "file" or "folder"
  std::string op;           // a refusal's operation, "write"
  std::string reason;       // a refusal's reason, "quota"
  int err = 0;              // a refusal's errno
};

// The event's JSON object, one line without a newline, keys in a fixed
// order: id, kind, time, then the facts. `id` is unique and stays the
// event's across delivery attempts; `time` is ISO 8601 UTC.
std::string event_json(const Event& event, std::string_view id, std::string_view time);

// Where the view hands its events. record() is called on the request path,
// before the reply: it must be quick, must not wait for a delivery, and
// must not throw.
class EventLog {
 public:
  virtual ~EventLog() = default;
  virtual void record(const Event& event) noexcept = 0;
};

}  // namespace gw::fs
