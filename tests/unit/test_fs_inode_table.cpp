// The inode table: FUSE ids for backing objects, the kernel's lookup counts,
// pinned inodes, and what a reused or replaced (dev, ino) finds.
#include <sys/stat.h>

#include "fs/inode_table.hpp"
#include "fs_support.hpp"
#include "support/catch.hpp"

using namespace gw::fs;
using gw::test::make_mapping;
using gw::test::MappingSpec;
using gw::test::stat_of;
using gw::test::synthetic;

namespace {

InodePtr remember(InodeTable& t, const std::shared_ptr<const MappingRoot>& m, const struct stat& st) {
  return t.remember(m, st, FileHandle{{1, 2, 3}}, nullptr);
}

}  // namespace

TEST_CASE("an object gets one id per mapping, counted per lookup, until the kernel forgets it", "[fs][inodes]") {
  InodeTable t;
  const auto m = make_mapping();
  const InodePtr a = remember(t, m, stat_of(100));
  CHECK(a->id > FUSE_ROOT_ID);
  CHECK(a->ino == 100);
  CHECK(a->type == S_IFREG);
  CHECK(t.get(a->id) == a);
  CHECK(t.find(m->id, 1, 100) == a);
  CHECK(remember(t, m, stat_of(100)) == a);  // the same object: the same inode, two references
  t.add_reference(a);                        // a readdirplus entry: three
  CHECK(t.size() == 1);
  CHECK_FALSE(t.forget(a->id, 2));
  CHECK(t.get(a->id) == a);
  CHECK(t.forget(a->id, 1));
  CHECK(t.get(a->id) == nullptr);
  CHECK(t.find(m->id, 1, 100) == nullptr);
  CHECK_FALSE(t.forget(a->id, 1));  // a late forget finds nothing
  // Remembered again: a new id (a late request for the old one finds nothing).
  const InodePtr again = remember(t, m, stat_of(100));
  CHECK(again->id != a->id);
}

TEST_CASE("a forget of more than the count takes the inode out", "[fs][inodes]") {
  InodeTable t;
  const InodePtr a = remember(t, make_mapping(), stat_of(100));
  CHECK(t.forget(a->id, 5));
  CHECK(t.size() == 0);
}

TEST_CASE("the same object seen through two mappings gets two inodes", "[fs][inodes]") {
  InodeTable t;
  MappingSpec other;
  other.id = 2;
  const auto m1 = make_mapping();
  const auto m2 = make_mapping(other);
  const InodePtr a = remember(t, m1, stat_of(100));
  const InodePtr b = remember(t, m2, stat_of(100));
  CHECK(a != b);
  CHECK(t.find(1, 1, 100) == a);
  CHECK(t.find(2, 1, 100) == b);
}

TEST_CASE("a reused inode number of another type gets a new inode", "[fs][inodes]") {
  InodeTable t;
  const auto m = make_mapping();
  const InodePtr file = remember(t, m, stat_of(100));
  const InodePtr dir = remember(t, m, stat_of(100, S_IFDIR | 0755));
  CHECK(dir != file);
  CHECK(dir->type == S_IFDIR);
  CHECK(t.find(m->id, 1, 100) == dir);
  CHECK(t.get(file->id) == file);  // the kernel may still hold the old id
  CHECK(t.forget(file->id, 1));
  CHECK(t.find(m->id, 1, 100) == dir);  // forgetting the stale one leaves the new one found
}

TEST_CASE("a retired inode keeps its id but no longer stands for its (dev, ino)", "[fs][inodes]") {
  InodeTable t;
  const auto m = make_mapping();
  const InodePtr replaced = remember(t, m, stat_of(100));
  t.retire(replaced);  // an overwrite published over it: the number may be reused
  CHECK(t.get(replaced->id) == replaced);
  CHECK(t.find(m->id, 1, 100) == nullptr);
  const InodePtr reused = remember(t, m, stat_of(100));
  CHECK(reused != replaced);
  CHECK(t.forget(replaced->id, 1));
  CHECK(t.find(m->id, 1, 100) == reused);
}

TEST_CASE("pinned inodes stay until unpinned and forgotten", "[fs][inodes]") {
  InodeTable t;
  const auto m = make_mapping();
  const InodePtr root = gw::test::backed(t.next_id(), m, S_IFDIR, 7);
  t.pin(root);
  CHECK(t.find(m->id, 1, 7) == root);
  CHECK(remember(t, m, stat_of(7, S_IFDIR | 0755)) == root);  // looked up: one reference
  CHECK_FALSE(t.forget(root->id, 1));                          // pinned: stays
  CHECK(t.get(root->id) == root);
  CHECK(remember(t, m, stat_of(7, S_IFDIR | 0755)) == root);
  t.unpin(root->id);  // a reload dropped it, but the kernel still holds it
  CHECK(t.get(root->id) == root);
  CHECK(t.forget(root->id, 1));
  CHECK(t.get(root->id) == nullptr);
  const InodePtr dir = synthetic(t.next_id());
  t.pin(dir);
  t.unpin(dir->id);  // never looked up: gone at once
  CHECK(t.get(dir->id) == nullptr);
}
