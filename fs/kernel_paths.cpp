#include "fs/kernel_paths.hpp"

#include <spdlog/spdlog.h>

#include <cstdint>

#include "fs/view.hpp"

namespace gw::fs {

std::string libfuse_text() {
  std::string paths;
  if (kBuiltWithPassthrough) paths += "passthrough";
  if (kBuiltWithIoUring) paths += ", io_uring";
  return "libfuse " + std::string(fuse_pkgversion()) + " (built against " + std::to_string(FUSE_MAJOR_VERSION) +
         "." + std::to_string(FUSE_MINOR_VERSION) + "; " + (paths.empty() ? "no kernel paths" : paths) + ")";
}

void ask_kernel_paths(View& view, struct fuse_conn_info* conn) {
  [[maybe_unused]] const KernelPaths& want = view.kernel_paths();
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 16)
  if (want.passthrough) {
    if (conn->capable & FUSE_CAP_PASSTHROUGH) {
      conn->want |= static_cast<std::uint32_t>(FUSE_CAP_PASSTHROUGH);
      // Backing files may sit on a stacked filesystem (a volume in a
      // container's overlayfs layer); in exchange nothing may be stacked
      // over the view, and nothing is.
      conn->max_backing_stack_depth = FUSE_BACKING_STACKED_OVER;
      view.passthrough().set_enabled(true);
      spdlog::info("fuse: passthrough on: files opened for reading are read by the kernel from their backing files");
    } else {
      spdlog::warn("fuse: --fuse-passthrough: the kernel offers no passthrough (CONFIG_FUSE_PASSTHROUGH, Linux 6.9); "
                   "downloads go through the gateway");
    }
  }
#endif
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 18)
  if (want.io_uring && !(conn->capable & FUSE_CAP_OVER_IO_URING))
    spdlog::warn("fuse: --fuse-io-uring: the kernel offers no io_uring (CONFIG_FUSE_IO_URING, and is "
                 "/sys/module/fuse/parameters/enable_uring Y?); requests go through /dev/fuse");
#else
  (void)conn;
#endif
}

// libfuse starts its rings after the INIT reply, and the kernel uses them
// once every queue is registered: the first requests may still come through
// /dev/fuse. One over the ring settles it; none among the first 256 means
// the ring never started (libfuse said why on stderr, if it did).
void View::note_transport_slow([[maybe_unused]] fuse_req_t req) noexcept {
  constexpr unsigned kChecks = 256;
  bool uring = false;
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 18)
  uring = fuse_req_is_uring(req);
#endif
  const unsigned seen = transport_checks_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (!uring && seen < kChecks) return;
  if (transport_known_.exchange(true)) return;
  try {
    if (uring) spdlog::info("fuse: requests arrive over io_uring");
    else spdlog::warn("fuse: --fuse-io-uring: the ring did not start, requests arrive through /dev/fuse "
                      "(enable_uring, a libfuse built with liburing, io_uring allowed by seccomp?)");
  } catch (...) {
  }
}

}  // namespace gw::fs
