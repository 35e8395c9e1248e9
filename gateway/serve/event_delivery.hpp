// The supervisor's part of upload events (gateway/events/): before the
// first worker starts, the spool is readied (a cursor for each sink, those
// of sinks no longer configured removed) and one courier per sink started;
// they deliver across worker restarts and stop at shutdown. Nothing at all
// without a sink.
#pragma once

#include <memory>
#include <vector>

#include "fs/unique_fd.hpp"
#include "gateway/events/courier.hpp"
#include "gateway/events/sink.hpp"
#include "gateway/options/options.hpp"
#include "gateway/serve/progress_counter.hpp"

namespace gw::gateway {

class EventDelivery {
 public:
  // Makes the sinks, readies the spool and starts the couriers; counts go
  // to `counts`. Throws ExitError when the spool cannot be readied.
  EventDelivery(const Settings& settings, SupervisorCounts& counts);
  ~EventDelivery();
  EventDelivery(const EventDelivery&) = delete;
  EventDelivery& operator=(const EventDelivery&) = delete;

  // Stops starting deliveries (returns at once): call it first at shutdown,
  // so the deliveries in flight end while the rest stops.
  void request_stop();
  // Waits for them and records them (each within --event-timeout).
  void stop();

 private:
  fs::UniqueFd spool_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::vector<std::unique_ptr<Courier>> couriers_;  // after sinks_: they go first
};

}  // namespace gw::gateway
