// A mapped backing folder as the view serves it: the confined root fd plus
// who the objects in it belong to (presented and stored owner) and what the
// rule allows.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "fs/backing_fd.hpp"
#include "fs/metrics.hpp"
#include "fs/quota.hpp"
#include "mapping/event_kinds.hpp"
#include "mapping/model.hpp"

namespace gw::fs {

struct MappingRoot {
  std::uint64_t id = 0;         // distinguishes mappings sharing a backing folder
  std::string label;            // "ryan:web" for logs
  mapping::User user;           // the presented owner
  mapping::Owner stored;        // what lands on disk
  bool read_only = false;
  bool symlinks = false;
  bool atomic = false;
  mode_t umask = 022;           // for what is created in it (the rule's umask=)
  // A directory fd on the backing filesystem, shared by every mapping on it:
  // open_by_handle_at needs one, and one per mapping would not scale.
  std::shared_ptr<const UniqueFd> mount_fd;
  dev_t dev = 0;                // objects on another device are never entered
  // Bytes and uploads of this mapping (fs/metrics.hpp), shared with every
  // root of the same label; null only in tests that make roots by hand.
  std::shared_ptr<MappingCounters> counters;
  // What an event from inside it says of where (fs/view_events.hpp): a path
  // in the user's view is below `view_path` ("/ryan/web"; "/ryan" for the
  // home), and the same object is `volume_folder` ("site", the rule's
  // subdir; "" for a volume's root and for a home) joined with the rest of
  // the path, inside `volume` ("" for a home).
  std::string volume;
  std::string volume_folder;
  std::string view_path;
  // The kinds of event it reports (the rule's events=, else --event-kinds).
  mapping::EventKinds events = mapping::kAllEventKinds;
  // Set by whoever sweeps its tree for a dead worker's temporaries, once
  // (fs/upload_sweep.hpp: at the build, or on the root's first lookup).
  mutable std::atomic<bool> sweep_claimed{false};

  // The limits of the folder and of those around and inside it (fs/quota.hpp),
  // set by every build: a reload may change them for a root it keeps.
  std::shared_ptr<const MappingQuotas> quotas() const {
    std::lock_guard lock(quotas_mu_);
    return quotas_;
  }
  void set_quotas(std::shared_ptr<const MappingQuotas> q) const {
    std::lock_guard lock(quotas_mu_);
    quotas_ = std::move(q);
  }

 private:
  mutable std::mutex quotas_mu_;
  mutable std::shared_ptr<const MappingQuotas> quotas_;
};

}  // namespace gw::fs
