// The FUSE requests the view answers, as the metrics count them: a fixed
// set, so a counter per request and result is an array, not a map.
//
// This is not fs/op.hpp's Op: Op is what the policy checks and the audit
// trail names (open for reading and for writing are two Ops, `write` is the
// line a release writes), while a request is what the kernel sent (one
// `open`, one `write` per write call, `read`, `flush`, `lseek`, `opendir`...).
//
// Handlers name their request with a string literal, as they always did
// (`guarded(req, "getattr", ...)`); RequestName turns it into the kind at
// compile time, so a name missing from the table below fails the build
// instead of counting under a wrong label, and no request pays for a lookup.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gw::fs {

enum class RequestKind : std::uint8_t {
  lookup, getattr, setattr, readlink, statfs, open, create, mkdir, mknod, symlink, link, unlink, rmdir,
  rename, setxattr, getxattr, listxattr, removexattr,  // metadata
  read, lseek,                                         // read
  write, flush, fsync, fallocate,                      // write
  opendir, readdir, readdirplus,                       // dir
};
inline constexpr std::size_t kRequestKinds = static_cast<std::size_t>(RequestKind::readdirplus) + 1;

// Which latency histogram a request goes to: looking things up and changing
// names, reading file data, writing file data (flush publishes an atomic
// upload), listing folders.
enum class RequestClass : std::uint8_t { metadata, read, write, dir };
inline constexpr std::size_t kRequestClasses = 4;

struct RequestKindInfo {
  RequestKind kind;
  std::string_view name;  // as logs and the metrics label show it
  RequestClass cls;
};

namespace detail {

using K = RequestKind;
using C = RequestClass;
// Each row names its kind, so a row out of place fails the build (the
// static_assert below) instead of shifting every name after it.
inline constexpr std::array<RequestKindInfo, kRequestKinds> kRequestRows = {{
    {K::lookup, "lookup", C::metadata},       {K::getattr, "getattr", C::metadata},
    {K::setattr, "setattr", C::metadata},     {K::readlink, "readlink", C::metadata},
    {K::statfs, "statfs", C::metadata},       {K::open, "open", C::metadata},
    {K::create, "create", C::metadata},       {K::mkdir, "mkdir", C::metadata},
    {K::mknod, "mknod", C::metadata},         {K::symlink, "symlink", C::metadata},
    {K::link, "link", C::metadata},           {K::unlink, "unlink", C::metadata},
    {K::rmdir, "rmdir", C::metadata},         {K::rename, "rename", C::metadata},
    {K::setxattr, "setxattr", C::metadata},   {K::getxattr, "getxattr", C::metadata},
    {K::listxattr, "listxattr", C::metadata}, {K::removexattr, "removexattr", C::metadata},
    {K::read, "read", C::read},               {K::lseek, "lseek", C::read},
    {K::write, "write", C::write},            {K::flush, "flush", C::write},
    {K::fsync, "fsync", C::write},            {K::fallocate, "fallocate", C::write},
    {K::opendir, "opendir", C::dir},          {K::readdir, "readdir", C::dir},
    {K::readdirplus, "readdirplus", C::dir},
}};

constexpr bool rows_in_order() {
  for (std::size_t i = 0; i < kRequestRows.size(); ++i)
    if (kRequestRows[i].kind != static_cast<RequestKind>(i)) return false;
  return true;
}
static_assert(rows_in_order(), "one row per RequestKind, in the enum's order");

// Not constexpr on purpose: reaching it while the compiler evaluates a
// RequestName is the error message that says what to do.
void request_name_not_in_fs_request_kind_hpp();

}  // namespace detail

inline const RequestKindInfo& info(RequestKind kind) { return detail::kRequestRows[static_cast<std::size_t>(kind)]; }
std::string_view name(RequestClass cls);

// A request's name, checked against the table while compiling.
class RequestName {
 public:
  consteval RequestName(const char* name) : kind_(find(name)) {}  // implicit: handlers pass literals
  RequestKind kind() const { return kind_; }
  const char* c_str() const { return info(kind_).name.data(); }  // the rows are literals: terminated

 private:
  static consteval RequestKind find(std::string_view name) {
    for (const RequestKindInfo& row : detail::kRequestRows)
      if (row.name == name) return row.kind;
    detail::request_name_not_in_fs_request_kind_hpp();
    return RequestKind::lookup;
  }
  RequestKind kind_;
};

}  // namespace gw::fs
