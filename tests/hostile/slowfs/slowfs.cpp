// A test filesystem whose lookups take a fixed time: the root holds empty
// folders d0 ... d15 (found at once), and looking up any name inside one of
// them answers ENOENT after SLOWFS_DELAY_MS (default 1000). The kernel takes
// lookups in one folder one at a time, so clients that want to keep several
// threads busy use different folders. Used as a volume's backing store, it
// keeps the gateway's worker threads busy with requests that are slow but
// finish, the load a slow disk gives. Usage: slowfs MOUNTPOINT (foreground;
// SIGTERM unmounts).
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

std::chrono::milliseconds delay{1000};

void init(void*, struct fuse_conn_info* conn) {
  conn->want |= conn->capable & FUSE_CAP_PARALLEL_DIROPS;  // lookups in one folder at once
}

constexpr fuse_ino_t kFolders = 16;  // d0 ... d15: inodes 2 ... 17

uid_t owner() {
  const char* uid = std::getenv("SLOWFS_UID");
  return static_cast<uid_t>(std::atoi(uid ? uid : "0"));
}

struct stat folder_attr(fuse_ino_t ino) {
  struct stat st {};
  st.st_ino = ino;
  st.st_mode = S_IFDIR | 0755;
  st.st_nlink = 2;
  st.st_uid = owner();
  st.st_gid = owner();
  return st;
}

void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  if (parent == FUSE_ROOT_ID) {
    char* end = nullptr;
    const unsigned long n = name[0] == 'd' ? std::strtoul(name + 1, &end, 10) : kFolders;
    if (n >= kFolders || !end || *end || end == name + 1) {
      fuse_reply_err(req, ENOENT);
      return;
    }
    fuse_entry_param e{};
    e.ino = FUSE_ROOT_ID + 1 + n;
    e.attr = folder_attr(e.ino);
    fuse_reply_entry(req, &e);
    return;
  }
  std::this_thread::sleep_for(delay);
  fuse_reply_err(req, ENOENT);
}

void getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info*) {
  if (ino < FUSE_ROOT_ID || ino > FUSE_ROOT_ID + kFolders) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  const struct stat st = folder_attr(ino);
  fuse_reply_attr(req, &st, 0);
}

void opendir(fuse_req_t req, fuse_ino_t, struct fuse_file_info* fi) { fuse_reply_open(req, fi); }

void readdir(fuse_req_t req, fuse_ino_t, size_t, off_t, struct fuse_file_info*) { fuse_reply_buf(req, nullptr, 0); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: slowfs MOUNTPOINT\n");
    return 2;
  }
  if (const char* ms = std::getenv("SLOWFS_DELAY_MS")) delay = std::chrono::milliseconds(std::atoi(ms));
  struct fuse_lowlevel_ops ops {};
  ops.init = init;
  ops.lookup = lookup;
  ops.getattr = getattr;
  ops.opendir = opendir;
  ops.readdir = readdir;
  char arg0[] = "slowfs", opt[] = "-o", opts[] = "allow_other,default_permissions,fsname=slowfs";
  char* fuse_argv[] = {arg0, opt, opts};
  struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
  struct fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, nullptr);
  if (!se || fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, argv[1]) != 0) return 1;
  struct fuse_loop_config* cfg = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(cfg, 64);
  fuse_loop_cfg_set_idle_threads(cfg, 64);
  const int rc = fuse_session_loop_mt(se, cfg);
  fuse_loop_cfg_destroy(cfg);
  fuse_session_unmount(se);
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  return rc == 0 ? 0 : 1;
}
