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

#include "mapping/event_kinds.hpp"

namespace gw::fs {

// The kinds and their names are the model's (a rule's events= names them).
using mapping::EventKind;
using mapping::kEventKinds;
using mapping::event_kind_name;
using mapping::find_event_kind;
// A set of kinds, one bit each (what a mapping or the gateway wants).
using mapping::EventKinds;
using mapping::bit;
using mapping::kAllEventKinds;

// Everything one event says. The facts every event has (user, mapping,
// volume, path, volume_path) are always in its JSON, "" included (the
// volume of a home, the volume_path of the mapped folder itself); the facts
// of one kind (to, to_volume_path, size, replaced, type, op, reason, error)
// only when set: strings not empty, optionals set, err not 0.
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

// Where the view hands its events (View::set_event_log). record() is called
// on the request path, before the reply, from any of the session's threads:
// it must be quick, must not wait for a delivery, and must not throw. It may
// run while the thread acts as a mapping's stored owner (fs/identity.hpp; a
// refusal decided midway through an operation): nothing it opens may depend
// on the thread's identity.
class EventLog {
 public:
  virtual ~EventLog() = default;
  virtual void record(const Event& event) noexcept = 0;
};

}  // namespace gw::fs
