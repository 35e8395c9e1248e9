// The kernel's faster paths between a FUSE client and this daemon (issue 16),
// beyond requests read from and answered on /dev/fuse:
//   - passthrough: the kernel reads a file opened for download straight from
//     the backing file the gateway opened, without a request per read
//     (libfuse >= 3.16, CONFIG_FUSE_PASSTHROUGH; fs/passthrough.hpp);
//   - io_uring: requests and replies travel through one io_uring per CPU
//     instead of read()/write() on /dev/fuse (libfuse 3.18 built with
//     liburing, CONFIG_FUSE_IO_URING and the host's
//     /sys/module/fuse/parameters/enable_uring).
// Which of them a build can use is fixed by the libfuse it was compiled
// against (FUSE_USE_VERSION stays 312: new API is used only behind these).
#pragma once

#include <fuse_lowlevel.h>

#include <string>

namespace gw::fs {

class View;

inline constexpr bool kBuiltWithPassthrough = FUSE_VERSION >= FUSE_MAKE_VERSION(3, 16);
// 3.18's API; whether its library was built with liburing shows only at
// run time (the worker logs whether the ring started).
inline constexpr bool kBuiltWithIoUring = FUSE_VERSION >= FUSE_MAKE_VERSION(3, 18);

// What the worker asks of the kernel; both off by default.
struct KernelPaths {
  bool passthrough = false;  // --fuse-passthrough
  bool io_uring = false;     // --fuse-io-uring
};

// "libfuse 3.18.3 (built against 3.18; passthrough, io_uring)": the library
// loaded and what this build can ask of it, for --version and the log.
std::string libfuse_text();

// At INIT: asks the kernel for what `view`'s options want and it offers
// (passthrough turns on in view.passthrough()); logs what it does not offer.
void ask_kernel_paths(View& view, struct fuse_conn_info* conn);

}  // namespace gw::fs
