#include "fs/op.hpp"

#include <array>
#include <cstddef>

namespace gw::fs {
namespace {

struct Row {
  Op op;
  OpInfo info;
};

// The one table of what each operation is called and whether it writes
// (what Policy::check gates). Each row names its Op, so a row missing or out
// of place fails the build instead of shifting every name after it.
constexpr std::array kRows = {
    Row{Op::lookup, {"lookup", false}},         Row{Op::getattr, {"getattr", false}},
    Row{Op::readlink, {"readlink", false}},     Row{Op::open_read, {"open", false}},
    Row{Op::readdir, {"readdir", false}},       Row{Op::statfs, {"statfs", false}},
    Row{Op::getxattr, {"getxattr", false}},     Row{Op::listxattr, {"listxattr", false}},
    Row{Op::setattr, {"setattr", true}},        Row{Op::open_write, {"open-write", true}},
    Row{Op::create, {"create", true}},          Row{Op::mkdir, {"mkdir", true}},
    Row{Op::mknod, {"mknod", true}},            Row{Op::symlink, {"symlink", true}},
    Row{Op::link, {"link", true}},              Row{Op::unlink, {"unlink", true}},
    Row{Op::rmdir, {"rmdir", true}},            Row{Op::rename, {"rename", true}},
    Row{Op::setxattr, {"setxattr", true}},      Row{Op::removexattr, {"removexattr", true}},
    Row{Op::write, {"write", true}},            Row{Op::fallocate, {"fallocate", true}},
};

constexpr bool one_row_per_op_in_order() {
  if (kRows.size() != static_cast<std::size_t>(Op::fallocate) + 1) return false;
  for (std::size_t i = 0; i < kRows.size(); ++i)
    if (kRows[i].op != static_cast<Op>(i)) return false;
  return true;
}
static_assert(one_row_per_op_in_order(), "one row per Op, in the enum's order");

}  // namespace

const OpInfo& info(Op op) { return kRows[static_cast<std::size_t>(op)].info; }

}  // namespace gw::fs
