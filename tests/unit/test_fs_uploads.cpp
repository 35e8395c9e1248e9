// The upload registry in memory: temporary names, what a name in a folder
// means (resolve, listings), how the view's renames and removals detach an
// upload, what a close reports, and where an overwritten file's inode
// points while uploads of it start and end.
#include <cerrno>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

#include "fs/upload.hpp"
#include "fs_support.hpp"
#include "support/catch.hpp"

using namespace gw::fs;
using gw::test::backed;
using gw::test::make_mapping;
using Kind = Uploads::Resolved::Kind;

namespace {

Name name_of(const std::string& text) { return *Name::from(text); }

struct Folder {
  std::shared_ptr<const MappingRoot> mapping = make_mapping();
  InodePtr dir = backed(10, mapping, S_IFDIR);
  InodePtr other_dir = backed(11, mapping, S_IFDIR);
};

std::shared_ptr<Upload> new_file(const InodePtr& dir, const std::string& name) {
  return std::make_shared<Upload>(dir, name_of(name), Uploads().new_temporary_name());
}

// An overwrite of `node` (called `name` in `dir`), its temporary standing
// for it as the inode `replacement`.
std::shared_ptr<Upload> overwrite(const InodePtr& dir, const InodePtr& node, fuse_ino_t replacement) {
  return std::make_shared<Upload>(dir, name_of("site"), Uploads().new_temporary_name(),
                                  Upload::Replacing{node, node->dev, node->ino, backed(replacement, node->mapping)});
}

}  // namespace

TEST_CASE("temporary names are the gateway's own: prefixed, random, recognised", "[fs][upload]") {
  std::set<std::string> seen;
  const Uploads untagged;
  for (int i = 0; i < 100; ++i) {
    const Name t = untagged.new_temporary_name();
    CHECK(Uploads::is_temporary(t.str()));
    CHECK(t.str().size() == Uploads::kPrefix.size() + 16);
    CHECK(t.str().find_first_not_of("0123456789abcdef", Uploads::kPrefix.size()) == std::string::npos);
    seen.insert(t.str());
  }
  CHECK(seen.size() == 100);
  CHECK(Uploads::is_temporary(".gw-upload-"));
  CHECK_FALSE(Uploads::is_temporary(".gw-upload"));
  CHECK_FALSE(Uploads::is_temporary("x.gw-upload-00"));
  CHECK_FALSE(Uploads::is_temporary("site.html"));
}

TEST_CASE("temporary names carry the instance's tag; only tagged ones are its own", "[fs][upload]") {
  const Uploads tagged("0badc0de");
  const Name t = tagged.new_temporary_name();
  CHECK(t.str().starts_with(".gw-upload-0badc0de-"));
  CHECK(t.str().size() == Uploads::kPrefix.size() + 8 + 1 + 16);
  CHECK(tagged.is_own_temporary(t.str()));
  CHECK_FALSE(tagged.is_own_temporary(Uploads("12345678").new_temporary_name().str()));  // a replica's
  CHECK_FALSE(tagged.is_own_temporary(Uploads().new_temporary_name().str()));            // an untagged gateway's
  CHECK_FALSE(tagged.is_own_temporary(".gw-upload-0badc0de"));
  CHECK_FALSE(tagged.is_own_temporary(".gw-upload-0badc0dee-0011223344556677"));
  CHECK_FALSE(tagged.is_own_temporary("0badc0de-0011223344556677"));
  // Without a tag every temporary is the instance's (a lone gateway's).
  CHECK(Uploads().is_own_temporary(".gw-upload-12345678-0011223344556677"));
  CHECK_FALSE(Uploads().is_own_temporary("site.html"));
}

TEST_CASE("resolve: a plain name means itself, a temporary name is reserved, a bad one is invalid", "[fs][upload]") {
  Folder f;
  Uploads uploads;
  const auto plain = uploads.resolve(*f.dir, "site.html");
  CHECK(plain.kind == Kind::plain);
  REQUIRE(plain.on_disk);
  CHECK(plain.on_disk->str() == "site.html");
  CHECK(plain.name->str() == "site.html");
  CHECK_FALSE(plain.upload);
  const auto reserved = uploads.resolve(*f.dir, ".gw-upload-0011223344556677");
  CHECK(reserved.kind == Kind::reserved);
  CHECK_FALSE(reserved.on_disk);
  for (const char* bad : {"", ".", "..", "a/b"}) {
    INFO('"' << bad << '"');
    const auto r = uploads.resolve(*f.dir, bad);
    CHECK(r.kind == Kind::invalid);
    CHECK_FALSE(r.on_disk);
  }
}

TEST_CASE("a new file in progress: its name means its temporary, in its folder only", "[fs][upload]") {
  Folder f;
  Uploads uploads;
  const auto up = new_file(f.dir, "b");
  uploads.add(up);
  CHECK(uploads.state(*up) == UploadState::writing);
  const auto r = uploads.resolve(*f.dir, "b");
  CHECK(r.kind == Kind::upload);
  CHECK(r.upload == up);
  REQUIRE(r.on_disk);
  CHECK(r.on_disk->str() == up->temporary().str());
  CHECK(r.name->str() == "b");
  CHECK(uploads.resolve(*f.other_dir, "b").kind == Kind::plain);
  CHECK(uploads.resolve(*f.dir, "c").kind == Kind::plain);
  // Listings: the upload under its final name, other temporaries hidden.
  const auto listing = uploads.listing(*f.dir);
  CHECK(listing.shown(up->temporary().str()) == "b");
  CHECK(listing.shown(".gw-upload-ffffffffffffffff") == std::nullopt);
  CHECK(listing.shown("a") == "a");
  CHECK(uploads.listing(*f.other_dir).shown(up->temporary().str()) == std::nullopt);
  CHECK(uploads.is_live_temporary(up->temporary().str()));
  CHECK(uploads.in_progress() == 1);
}

TEST_CASE("a rename or removal through the view detaches the upload; its close drops it", "[fs][upload]") {
  Folder f;
  Uploads uploads;
  const auto up = new_file(f.dir, "b");
  uploads.add(up);
  uploads.detach(*f.dir, "c");  // no upload there: nothing happens
  CHECK(uploads.state(*up) == UploadState::writing);
  uploads.detach(*f.dir, "b");
  CHECK(uploads.state(*up) == UploadState::detached);
  CHECK(uploads.resolve(*f.dir, "b").kind == Kind::plain);  // the name is free again
  CHECK(uploads.listing(*f.dir).shown(up->temporary().str()) == std::nullopt);
  CHECK(uploads.is_live_temporary(up->temporary().str()));  // open still: the sweep leaves it
  CHECK(at_close(uploads.state(*up)) == UploadStep::drop);
  uploads.apply(*up, UploadEvent::drop);
  CHECK(uploads.state(*up) == UploadState::dropped);
  CHECK(uploads.error(*up) == 0);
  CHECK_FALSE(uploads.is_live_temporary(up->temporary().str()));
  CHECK(uploads.in_progress() == 0);
}

TEST_CASE("a failed upload keeps its name until its release discards it", "[fs][upload]") {
  Folder f;
  Uploads uploads;
  const auto up = new_file(f.dir, "b");
  uploads.add(up);
  uploads.apply(*up, UploadEvent::fail, ENOSPC);
  CHECK(uploads.state(*up) == UploadState::failed);
  CHECK(uploads.resolve(*f.dir, "b").upload == up);
  uploads.detach(*f.dir, "b");  // renamed through the view meanwhile
  CHECK(uploads.state(*up) == UploadState::failed);
  CHECK(uploads.resolve(*f.dir, "b").kind == Kind::plain);
  CHECK(uploads.error(*up) == ENOSPC);  // what the close reports
  uploads.apply(*up, UploadEvent::discard);
  CHECK(uploads.state(*up) == UploadState::discarded);
  CHECK(uploads.error(*up) == ENOSPC);  // and the audit line
  CHECK(uploads.in_progress() == 0);
}

TEST_CASE("publishing takes the name off the registry; the upload then ends", "[fs][upload]") {
  Folder f;
  Uploads uploads;
  const auto up = new_file(f.dir, "b");
  uploads.add(up);
  uploads.apply(*up, UploadEvent::start_publish);
  CHECK(uploads.state(*up) == UploadState::publishing);
  CHECK(uploads.resolve(*f.dir, "b").kind == Kind::plain);  // the rename makes it the real file
  uploads.detach(*f.dir, "b");  // a rename through the view now is about the real file
  CHECK(uploads.state(*up) == UploadState::publishing);
  uploads.apply(*up, UploadEvent::fail, EIO);  // a late write error of a dup'd descriptor
  CHECK(uploads.state(*up) == UploadState::publishing);
  uploads.apply(*up, UploadEvent::publish);
  CHECK(uploads.state(*up) == UploadState::published);
  CHECK(uploads.error(*up) == 0);
  CHECK_FALSE(uploads.is_live_temporary(up->temporary().str()));
  // A new upload may take the name again.
  const auto next = new_file(f.dir, "b");
  uploads.add(next);
  CHECK(uploads.resolve(*f.dir, "b").upload == next);
}

TEST_CASE("a rename that fails while publishing discards the upload with its error", "[fs][upload]") {
  Folder f;
  Uploads uploads;
  const auto up = new_file(f.dir, "b");
  uploads.add(up);
  uploads.apply(*up, UploadEvent::start_publish);
  uploads.apply(*up, UploadEvent::discard, ENOSPC);
  CHECK(uploads.state(*up) == UploadState::discarded);
  CHECK(uploads.error(*up) == ENOSPC);
}

TEST_CASE("an abandoned upload is discarded, and says why", "[fs][upload]") {
  Folder f;
  Uploads uploads;
  const auto up = new_file(f.dir, "b");
  uploads.add(up);
  uploads.apply(*up, UploadEvent::abandon);
  CHECK(uploads.error(*up) == 0);  // nothing to tell the exiting process
  CHECK(at_release(uploads.state(*up)) == UploadStep::discard);
  uploads.apply(*up, UploadEvent::discard);
  CHECK(uploads.error(*up) == ECONNABORTED);  // the audit line's reason
}

TEST_CASE("a refused transition throws and changes nothing", "[fs][upload]") {
  Folder f;
  Uploads uploads;
  const auto up = new_file(f.dir, "b");
  uploads.add(up);
  CHECK_THROWS_AS(uploads.apply(*up, UploadEvent::publish), std::logic_error);  // never without start_publish
  CHECK_THROWS_AS(uploads.apply(*up, UploadEvent::drop), std::logic_error);
  CHECK(uploads.state(*up) == UploadState::writing);
  CHECK(uploads.resolve(*f.dir, "b").upload == up);
  uploads.apply(*up, UploadEvent::fail, EIO);
  CHECK_THROWS_AS(uploads.apply(*up, UploadEvent::start_publish), std::logic_error);
  CHECK(uploads.state(*up) == UploadState::failed);
  uploads.apply(*up, UploadEvent::discard);
  CHECK_THROWS_AS(uploads.apply(*up, UploadEvent::discard), std::logic_error);  // ends once
  CHECK(uploads.state(*up) == UploadState::discarded);
}

TEST_CASE("an overwrite redirects the file's inode to its temporary; published, it stays", "[fs][upload]") {
  Folder f;
  Uploads uploads;
  const InodePtr file = backed(20, f.mapping);
  CHECK(Uploads::redirect_of(*file) == nullptr);
  const auto up = overwrite(f.dir, file, 30);
  uploads.add(up);
  CHECK(Uploads::redirect_of(*file) == up->replacing().replacement);
  CHECK(uploads.resolve(*f.dir, "site").kind == Kind::plain);  // an overwrite holds no name
  CHECK(uploads.is_live_temporary(up->temporary().str()));
  uploads.apply(*up, UploadEvent::start_publish);
  uploads.apply(*up, UploadEvent::publish);
  CHECK(Uploads::redirect_of(*file) == up->replacing().replacement);  // the file the temporary became
  CHECK_FALSE(uploads.undone(*up));
}

TEST_CASE("an overwrite that ends unpublished gives the inode its file back", "[fs][upload]") {
  for (const bool cancelled : {true, false}) {
    INFO((cancelled ? "cancelled" : "discarded"));
    Folder f;
    Uploads uploads;
    const InodePtr file = backed(20, f.mapping);
    const auto up = overwrite(f.dir, file, 30);
    uploads.add(up);
    if (cancelled) {
      uploads.apply(*up, UploadEvent::start_publish);
      uploads.apply(*up, UploadEvent::cancel);
      CHECK(uploads.error(*up) == ECANCELED);
    } else {
      uploads.apply(*up, UploadEvent::discard);
    }
    CHECK(Uploads::redirect_of(*file) == nullptr);
    CHECK(uploads.undone(*up));  // the kernel's cached pages must go
  }
}

TEST_CASE("two overwrites of one file: whichever ends, the inode stands for what is really there", "[fs][upload]") {
  Folder f;
  const InodePtr file = backed(20, f.mapping);
  Uploads uploads;  // each SECTION runs on its own copy of this start
  const auto first = overwrite(f.dir, file, 30);
  const auto second = overwrite(f.dir, file, 31);
  uploads.add(first);
  uploads.add(second);
  REQUIRE(Uploads::redirect_of(*file) == second->replacing().replacement);
  SECTION("the later one published, the earlier one cancelled: the published file") {
    uploads.apply(*second, UploadEvent::start_publish);
    uploads.apply(*second, UploadEvent::publish);
    uploads.apply(*first, UploadEvent::start_publish);
    uploads.apply(*first, UploadEvent::cancel);
    CHECK(Uploads::redirect_of(*file) == second->replacing().replacement);
  }
  SECTION("the earlier one published, the later one cancelled: the published file") {
    uploads.apply(*first, UploadEvent::start_publish);
    uploads.apply(*first, UploadEvent::publish);
    CHECK(Uploads::redirect_of(*file) == second->replacing().replacement);  // still in progress
    uploads.apply(*second, UploadEvent::start_publish);
    uploads.apply(*second, UploadEvent::cancel);
    CHECK(Uploads::redirect_of(*file) == first->replacing().replacement);
  }
  SECTION("the later one discarded while the earlier one goes on: the earlier one's temporary") {
    uploads.apply(*second, UploadEvent::discard);
    CHECK(Uploads::redirect_of(*file) == first->replacing().replacement);
    // A third one started now falls back on the first if it is undone.
    const auto third = overwrite(f.dir, file, 32);
    uploads.add(third);
    uploads.apply(*first, UploadEvent::discard);
    CHECK(Uploads::redirect_of(*file) == third->replacing().replacement);
    uploads.apply(*third, UploadEvent::discard);
    CHECK(Uploads::redirect_of(*file) == nullptr);
  }
  SECTION("the earlier one discarded, then the later one: the old file, not a removed temporary") {
    uploads.apply(*first, UploadEvent::discard);
    CHECK(Uploads::redirect_of(*file) == second->replacing().replacement);
    uploads.apply(*second, UploadEvent::discard);
    CHECK(Uploads::redirect_of(*file) == nullptr);
  }
}

TEST_CASE("an overwrite undone after an earlier one was published: the file that one published", "[fs][upload]") {
  Folder f;
  const InodePtr file = backed(20, f.mapping);
  Uploads uploads;
  const auto first = overwrite(f.dir, file, 30);
  uploads.add(first);
  uploads.apply(*first, UploadEvent::start_publish);
  uploads.apply(*first, UploadEvent::publish);
  const auto second = overwrite(f.dir, file, 31);
  uploads.add(second);
  uploads.apply(*second, UploadEvent::discard);
  CHECK(Uploads::redirect_of(*file) == first->replacing().replacement);
}
