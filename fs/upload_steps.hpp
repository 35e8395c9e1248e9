// Starting and ending atomic uploads: the syscalls behind the states of
// fs/upload_state.hpp. Every backing change runs as the mapping's stored
// owner, relative to the folder's fd. A new file's upload starts in
// create() (ops_create.cpp: its temporary is just the name it creates).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "fs/open_file.hpp"
#include "fs/view.hpp"

namespace gw::fs {

// Opens a temporary beside `node` (an existing file opened with O_TRUNC in
// an atomic mapping) for `file` to write instead, with the permission bits
// of the file its name holds; that file keeps its content on disk until
// published. Returns false (and leaves `file` alone) when the file cannot
// be replaced as a whole: it is hard-linked, not owned by the stored owner,
// its name is an upload in progress, or its place is unknown; the caller
// then truncates in place.
bool begin_overwrite(View& view, const InodePtr& node, int flags, OpenFile& file, int* err);

// close(): the upload is published unless a write failed or `closer` is
// exiting (then the release discards it). Returns the errno for the close:
// the write error, or ECANCELED for an overwrite whose file went meanwhile.
int close_upload(View& view, OpenFile& file, pid_t closer);

// The release of the handle: the upload ends (published if the close did
// not, else dropped or discarded). Returns why it was not published (0 when
// it was, or had nothing left to publish), for the audit line.
int release_upload(View& view, OpenFile& file);

// An upload whose handle never reached the client (the create or open
// failed after it started): its temporary goes.
void discard_upload(View& view, OpenFile& file);

// What a published upload was: the one call later features (quota
// accounting, upload events) hook into, made once per published upload, in
// mapping `m`, before the close that published it is answered.
struct PublishedUpload {
  std::string user;        // the sftp user
  std::string mapping;     // the mapping's label, "ryan:web"
  std::string path;        // in the user's view, "/ryan/web/site.bin"
  std::uint64_t size = 0;  // bytes
  bool replaced = false;   // it replaced an existing file (an overwrite)
};
void upload_published(const View& view, const MappingRoot& m, const PublishedUpload& facts);

}  // namespace gw::fs
