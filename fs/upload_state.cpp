#include "fs/upload_state.hpp"

#include <array>
#include <cstddef>
#include <iterator>

namespace gw::fs {
namespace {

using S = UploadState;
constexpr std::size_t kStates = static_cast<std::size_t>(S::discarded) + 1;
constexpr std::size_t kEvents = static_cast<std::size_t>(UploadEvent::discard) + 1;

// One row per state, one column per event (fail, abandon, detach,
// start_publish, publish, cancel, drop, discard); `no`: refused.
constexpr std::optional<S> no = std::nullopt;
constexpr std::optional<S> kNext[][kEvents] = {
    /* writing    */ {S::failed, S::abandoned, S::detached, S::publishing, no, no, no, S::discarded},
    /* failed     */ {S::failed, S::failed, S::failed, no, no, no, no, S::discarded},
    /* abandoned  */ {S::failed, S::abandoned, S::abandoned, no, no, no, no, S::discarded},
    /* detached   */ {S::failed, S::abandoned, no, no, no, no, S::dropped, S::discarded},
    /* publishing */ {S::publishing, S::publishing, no, no, S::published, S::cancelled, no, S::discarded},
    /* published  */ {S::published, S::published, no, no, no, no, no, no},
    /* cancelled  */ {S::cancelled, S::cancelled, no, no, no, no, no, no},
    /* dropped    */ {S::dropped, S::dropped, no, no, no, no, no, no},
    /* discarded  */ {S::discarded, S::discarded, no, no, no, no, no, no},
};
static_assert(std::size(kNext) == kStates, "one row per state");

constexpr std::array<std::string_view, kStates> kStateNames = {
    "writing", "failed", "abandoned", "detached", "publishing", "published", "cancelled", "dropped", "discarded"};
constexpr std::array<std::string_view, kEvents> kEventNames = {
    "fail", "abandon", "detach", "start_publish", "publish", "cancel", "drop", "discard"};

std::size_t index(S s) { return static_cast<std::size_t>(s); }

}  // namespace

std::optional<UploadState> after(UploadState state, UploadEvent event) {
  return kNext[index(state)][static_cast<std::size_t>(event)];
}

bool ended(UploadState state) { return state >= S::published; }

UploadStep at_close(UploadState state) {
  switch (state) {
    case S::writing: return UploadStep::publish;
    case S::detached: return UploadStep::drop;
    // failed: its error is reported and it ends now, so the next open of
    // its name (the client trying again) finds a name to create, not it.
    case S::failed: return UploadStep::discard;
    default: return UploadStep::none;
  }
}

UploadStep at_release(UploadState state) {
  switch (state) {
    case S::writing: return UploadStep::publish;
    case S::detached: return UploadStep::drop;
    case S::failed:
    case S::abandoned: return UploadStep::discard;
    default: return UploadStep::none;
  }
}

std::string_view name(UploadState state) { return kStateNames[index(state)]; }
std::string_view name(UploadEvent event) { return kEventNames[static_cast<std::size_t>(event)]; }

}  // namespace gw::fs
