// Replacing a file whole: a reader sees the old content or the new one,
// never a mix, and a crash leaves one of the two.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace gw::gateway {

// Writes `text` to a temporary `.<name>.new` in the folder `dir` (an fd),
// with exactly `mode` whatever the umask, fsyncs it, renames it over `name`
// and fsyncs the folder. Returns 0, or the errno of the step that failed
// (the temporary is then removed and `name` left as it was). The caller is
// the only writer of `name` (the temporary's name is fixed).
int write_file_atomically(int dir, const std::string& name, std::string_view text, mode_t mode);

}  // namespace gw::gateway
