// The life of an atomic upload after its file is open: how an overwrite of
// an existing file starts (a temporary beside it), and how an upload ends
// (published under its name, or discarded). New files start in create().
#pragma once

#include <sys/types.h>

#include "fs/open_file.hpp"
#include "fs/view.hpp"

namespace gw::fs {

// Opens a temporary beside `node` (an existing file opened with O_TRUNC in
// an atomic mapping) for `file` to write instead, with the permission bits
// of the file its name holds; that file keeps its content on disk until
// published. Returns false (and leaves `file` alone) when the file cannot
// be replaced as a whole: it is hard-linked, not owned by the stored owner,
// or its place is unknown; the caller then truncates in place.
bool begin_overwrite(View& view, const InodePtr& node, int flags, OpenFile& file, int* err);

// The temporary takes the file's real name. A new file's upload is not
// published if it was renamed or removed meanwhile (it already has its
// name); an overwrite is refused (ECANCELED, the temporary removed) if the
// name no longer holds the file it replaces.
int publish_upload(View& view, OpenFile& file);

// An upload that will never be published: its temporary goes.
void discard_upload(View& view, OpenFile& file);

// Whether `pid` is exiting: its open files are being closed for it (a
// killed client's sshd), not by a client that finished its upload.
bool exiting(pid_t pid);

}  // namespace gw::fs
