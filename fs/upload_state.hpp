// The states of an atomic upload and the only ways between them: pure logic,
// so every transition is unit-tested. fs/upload.hpp keeps each upload's
// state and applies these; fs/upload_steps.hpp does the work behind them.
//
//   writing --start_publish--> publishing --publish--> published
//     |                             |--cancel---> cancelled  (an overwrite whose file went)
//     |                             +--discard--> discarded  (the rename failed)
//     |--fail------> failed -----+
//     |--abandon---> abandoned --+--discard--> discarded
//     |--discard-----------------+
//     +--detach----> detached ---+--drop-----> dropped
//                                +--fail, abandon, discard: as from writing
//
// Besides: abandoned takes fail, and failed stays failed on abandon (the
// write error is what the close reports); both stay as they are on detach
// (the name goes, the release still discards). Publishing stays publishing
// on fail and abandon (late events of a dup'd descriptor: the audit line
// has them) and cannot be detached (its name left the registry when it
// started). The four ended states stay as they are on fail and abandon and
// refuse everything else.
#pragma once

#include <optional>
#include <string_view>

namespace gw::fs {

enum class UploadState {
  writing,    // the temporary takes the data; the view shows it under its final name
  failed,     // a write failed (ENOSPC, EDQUOT...): the close reports it and discards it
  abandoned,  // closed by an exiting process (a killed client's sshd): the release discards
  detached,   // a new file renamed or removed through the view, or another file renamed
              // onto its name: nothing of it is left to publish
  publishing, // a close is renaming the temporary; the final name no longer means it
  published,  // ended: the temporary took the final name
  cancelled,  // ended: an overwrite whose file was removed or replaced meanwhile (ECANCELED)
  dropped,    // ended: a detached upload was closed; its temporary name is gone
  discarded,  // ended unpublished: the temporary removed
};

enum class UploadEvent {
  fail,     // a write returned an error
  abandon,  // a close came from an exiting process
  detach,   // the view renamed or removed the temporary, or another file took the name
  start_publish,  // a close starts renaming the temporary to the final name
  publish,  // the temporary was renamed to the final name
  cancel,   // an overwrite found its name no longer holding the file it replaces
  drop,     // a detached upload was closed
  discard,  // the temporary was removed unpublished (also: its rename failed)
};

// The state after `event` in `state`; nullopt when `event` cannot happen
// there (a bug in the caller: Uploads::apply refuses it).
std::optional<UploadState> after(UploadState state, UploadEvent event);

bool ended(UploadState state);

// What a close (flush) and the release of the handle do in `state`.
enum class UploadStep {
  publish,  // start_publish, then the temporary takes its name
  drop,     // a detached upload ends: nothing to publish
  discard,  // the temporary goes
  none,     // nothing to do: the close reports the upload's error (0, a write error, ECANCELED)
};
UploadStep at_close(UploadState state);
UploadStep at_release(UploadState state);

std::string_view name(UploadState state);
std::string_view name(UploadEvent event);

}  // namespace gw::fs
