// The FUSE request handlers, one family per file; op_table.cpp is the one
// place that puts them into fuse_lowlevel_ops.
#pragma once

#include "fs/request.hpp"

namespace gw::fs::ops {

// ops_lookup.cpp
void lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
void forget(fuse_req_t req, fuse_ino_t ino, std::uint64_t nlookup);
void forget_multi(fuse_req_t req, std::size_t count, struct fuse_forget_data* forgets);

// ops_attr.cpp
void getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, struct fuse_file_info* fi);
void readlink(fuse_req_t req, fuse_ino_t ino);
void statfs(fuse_req_t req, fuse_ino_t ino);

// ops_dir.cpp
void opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off, struct fuse_file_info* fi);
void readdirplus(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off, struct fuse_file_info* fi);
void releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info* fi);

// ops_file.cpp
void open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off, struct fuse_file_info* fi);
void write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec* in, off_t off, struct fuse_file_info* fi);
void flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info* fi);
void fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, struct fuse_file_info* fi);
void lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info* fi);

// ops_create.cpp
void create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, struct fuse_file_info* fi);
void mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
void mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev);
void symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name);
void link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname);

// ops_remove.cpp
void unlink(fuse_req_t req, fuse_ino_t parent, const char* name);
void rmdir(fuse_req_t req, fuse_ino_t parent, const char* name);
void rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent, const char* newname,
            unsigned int flags);

// ops_xattr.cpp
void setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, std::size_t size, int flags);
void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, std::size_t size);
void listxattr(fuse_req_t req, fuse_ino_t ino, std::size_t size);
void removexattr(fuse_req_t req, fuse_ino_t ino, const char* name);

}  // namespace gw::fs::ops
