// Where the supervisor delivers spooled events (gateway/events/courier.hpp):
// an HTTP endpoint (http_sink.hpp) or a command (command_sink.hpp). A sink
// delivers one event at a time per call and says whether it arrived; the
// courier decides what to deliver when, and retries.
#pragma once

#include <string>

namespace gw::gateway {

// One event as the spool holds it, with the facts a courier orders by.
struct SpooledEvent {
  std::string json;     // the event's JSON object (fs/event.hpp), without the newline
  std::string id;       // unique, the same at every attempt
  std::string kind;     // "upload", ...
  std::string mapping;  // "ryan:web": events of one mapping are delivered in order
};

struct DeliveryResult {
  bool ok = false;
  std::string problem;  // when not ok: one line for the log ("HTTP 503", "timed out after 10 s")
};

class Sink {
 public:
  virtual ~Sink() = default;
  // "url-<12 hex of the URL's SHA-256>" or "command": names the cursor file
  // and the metrics' sink label.
  virtual const std::string& name() const = 0;
  // Delivers `event` once, blocking, within the sink's time limit. Called
  // from several courier threads at once.
  virtual DeliveryResult deliver(const SpooledEvent& event) = 0;
};

}  // namespace gw::gateway
