// The write policy: which ops write, and who may do what on synthetic
// nodes, in another user's tree and in read-only mappings.
#include <spdlog/spdlog.h>

#include <cerrno>
#include <set>
#include <string>

#include "fs/policy.hpp"
#include "fs_support.hpp"
#include "support/catch.hpp"

using namespace gw::fs;
using gw::test::backed;
using gw::test::make_mapping;
using gw::test::MappingSpec;
using gw::test::synthetic;

namespace {

constexpr Op kAllOps[] = {Op::lookup,  Op::getattr, Op::readlink, Op::open_read, Op::readdir, Op::statfs,
                          Op::getxattr, Op::listxattr, Op::setattr, Op::open_write, Op::create,
                          Op::mkdir,   Op::mknod,   Op::symlink,  Op::link,      Op::unlink,  Op::rmdir,
                          Op::rename,  Op::setxattr, Op::removexattr, Op::write, Op::fallocate};
const std::set<Op> kWrites = {Op::setattr, Op::open_write, Op::create,   Op::mkdir,    Op::mknod,
                              Op::symlink, Op::link,       Op::unlink,   Op::rmdir,    Op::rename,
                              Op::setxattr, Op::removexattr, Op::write, Op::fallocate};

const Caller kRoot{0, 0, 1};
const Caller kAnn{61000, 61000, 2};
const Caller kBob{61001, 61001, 3};

// Refusals are logged; the tests need not show them.
struct Quiet {
  Quiet() { spdlog::set_level(spdlog::level::off); }
  ~Quiet() { spdlog::set_level(spdlog::level::info); }
};

}  // namespace

TEST_CASE("every op has a row: its name, and whether it writes", "[fs][policy]") {
  std::set<std::string> names;
  for (const Op op : kAllOps) {
    INFO(info(op).name);
    CHECK_FALSE(info(op).name.empty());
    CHECK(info(op).writes == (kWrites.count(op) == 1));
    names.insert(std::string(info(op).name));
  }
  CHECK(names.size() == std::size(kAllOps));
  CHECK(info(Op::open_read).name == "open");
  CHECK(info(Op::open_write).name == "open-write");
}

TEST_CASE("the user works freely in a writable mapping of their own", "[fs][policy]") {
  Quiet quiet;
  Policy policy;
  const InodePtr dir = backed(10, make_mapping(), S_IFDIR);
  for (const Op op : kAllOps) {
    if (op == Op::mknod) continue;
    INFO(info(op).name);
    CHECK(policy.check(*dir, op, kAnn, "a").err == 0);
    CHECK(policy.check(*dir, op, kRoot).err == 0);  // sshd before it drops privileges, the administrator
  }
}

TEST_CASE("another user's tree is closed, whatever the modes say", "[fs][policy]") {
  Quiet quiet;
  Policy policy;
  const InodePtr dir = backed(10, make_mapping(), S_IFDIR);
  for (const Op op : kAllOps) {
    INFO(info(op).name);
    CHECK(policy.check(*dir, op, kBob, "a").err == (op == Op::mknod ? EPERM : EACCES));
  }
}

TEST_CASE("a read-only mapping refuses exactly the ops that write", "[fs][policy]") {
  Quiet quiet;
  Policy policy;
  MappingSpec spec;
  spec.read_only = true;
  const InodePtr dir = backed(10, make_mapping(spec), S_IFDIR);
  for (const Op op : kAllOps) {
    if (op == Op::mknod) continue;
    INFO(info(op).name);
    CHECK(policy.check(*dir, op, kAnn, "a").err == (kWrites.count(op) ? EROFS : 0));
    CHECK(policy.check(*dir, op, kRoot, "a").err == (kWrites.count(op) ? EROFS : 0));
  }
}

TEST_CASE("the view's own folders and files are read-only, a chroot closed to other users", "[fs][policy]") {
  Quiet quiet;
  Policy policy;
  const InodePtr data = synthetic(2);
  const InodePtr chroot = synthetic(3, S_IFDIR | 0750, kAnn.uid);
  for (const Op op : kAllOps) {
    if (op == Op::mknod) continue;
    INFO(info(op).name);
    const int writes = kWrites.count(op) ? EROFS : 0;
    CHECK(policy.check(*data, op, kAnn).err == writes);
    CHECK(policy.check(*data, op, kRoot).err == writes);
    CHECK(policy.check(*chroot, op, kAnn).err == writes);
    CHECK(policy.check(*chroot, op, kRoot).err == writes);
    CHECK(policy.check(*chroot, op, kBob).err == EACCES);
  }
}

TEST_CASE("device nodes, fifos and sockets are never made, not even by root", "[fs][policy]") {
  Quiet quiet;
  Policy policy;
  CHECK(policy.check(*backed(10, make_mapping(), S_IFDIR), Op::mknod, kAnn, "fifo").err == EPERM);
  CHECK(policy.check(*backed(10, make_mapping(), S_IFDIR), Op::mknod, kRoot, "fifo").err == EPERM);
  CHECK(policy.check(*synthetic(2), Op::mknod, kRoot, "fifo").err == EPERM);
}

TEST_CASE("a refusal decided by op code answers with its errno", "[fs][policy]") {
  Quiet quiet;
  Policy policy;
  const InodePtr dir = backed(10, make_mapping(), S_IFDIR);
  CHECK(policy.refuse(*dir, Op::rename, kAnn, EXDEV, "rename across mappings", "a").err == EXDEV);
  CHECK(policy.refuse(*synthetic(2), Op::create, kAnn, EINVAL, "invalid name").err == EINVAL);
  // ...as a refusal, whose audit line is written: the op's own is not.
  CHECK(policy.refuse(*dir, Op::unlink, kAnn, EBUSY, "a mapped folder", "a").refused);
  CHECK_FALSE(policy.check(*dir, Op::unlink, kAnn, "a").refused);
  CHECK(policy.check(*dir, Op::unlink, kBob, "a").refused);
}
