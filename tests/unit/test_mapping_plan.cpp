// The per-user plan: the trees the classic setup built, and their backing.
#include "mapping/plan.hpp"
#include "mapping_support.hpp"
#include "support/catch.hpp"

using namespace gw::mapping;
using gw::test::all_lines;
using gw::test::parse_env;

namespace {

Model parsed_model(std::string_view users, std::string_view rules) {
  const Parsed parsed = parse_env(users, rules);
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  return parsed.model;
}

}  // namespace

TEST_CASE("the seed's example plans the trees the seed built", "[mapping][plan]") {
  const Model model =
      parsed_model("ryan:54321,gary:1001", "thttpd_files:ryan:web,music_stuff:gary:music");
  const Plan plan = make_plan(model, Paths{"/srv/sftp/data", "/var/lib/docker/volumes"});
  REQUIRE(plan.users.size() == 2);

  const UserPlan& ryan = plan.users[0];
  CHECK(ryan.user == User{"ryan", 54321, 54321});
  CHECK(ryan.chroot == "data/ryan-chroot");
  CHECK(ryan.home == "data/ryan-chroot/ryan");
  CHECK(ryan.home_backing == "/srv/sftp/data/ryan");
  REQUIRE(ryan.mounts.size() == 1);
  MountPlan web;
  web.name = "web";
  web.volume = "thttpd_files";
  web.backing = "/var/lib/docker/volumes/thttpd_files";
  CHECK(ryan.mounts[0] == web);  // and every option at its default

  const UserPlan& gary = plan.users[1];
  CHECK(gary.home == "data/gary-chroot/gary");
  CHECK(gary.home_backing == "/srv/sftp/data/gary");
  REQUIRE(gary.mounts.size() == 1);
  CHECK(gary.mounts[0].name == "music");
  CHECK(gary.mounts[0].backing == "/var/lib/docker/volumes/music_stuff");
}

TEST_CASE("mounts keep rule order and carry their options", "[mapping][plan]") {
  const Model model = parsed_model(
      "ryan:54321,gary:1001",
      "site/public:ryan:web:ro,logs:gary:logs,music:ryan:music:owner=33:34:symlinks:noatomic");
  const Plan plan = make_plan(model, Paths{"/data", "/volumes"});
  const UserPlan* ryan = plan.find("ryan");
  REQUIRE(ryan != nullptr);
  REQUIRE(ryan->mounts.size() == 2);
  CHECK(ryan->mounts[0].name == "web");
  CHECK(ryan->mounts[0].subdir == "public");
  CHECK(ryan->mounts[0].backing == "/volumes/site/public");
  CHECK(ryan->mounts[0].access == Access::read_only);
  CHECK_FALSE(ryan->mounts[0].owner);
  CHECK(ryan->mounts[1].name == "music");
  CHECK(ryan->mounts[1].owner == Owner{33, 34});
  CHECK(ryan->mounts[1].symlinks);
  CHECK_FALSE(ryan->mounts[1].atomic);
  REQUIRE(plan.find("gary") != nullptr);
  CHECK(plan.find("gary")->mounts.size() == 1);
}

TEST_CASE("a user without rules still gets a home", "[mapping][plan]") {
  const Plan plan = make_plan(parsed_model("ryan:54321", ""), Paths{"/data", "/volumes"});
  REQUIRE(plan.users.size() == 1);
  CHECK(plan.users[0].home == "data/ryan-chroot/ryan");
  CHECK(plan.users[0].mounts.empty());
}

TEST_CASE("backing paths are joined without double slashes", "[mapping][plan]") {
  const Model model = parsed_model("ryan:54321", "site/a/b/:ryan:web,v:ryan:root");
  SECTION("trailing slashes on the directories") {
    const Plan plan = make_plan(model, Paths{"/data//", "/volumes/"});
    CHECK(plan.users[0].home_backing == "/data/ryan");
    CHECK(plan.users[0].mounts[0].backing == "/volumes/site/a/b");
    CHECK(plan.users[0].mounts[1].backing == "/volumes/v");
  }
  SECTION("the filesystem root as a directory") {
    const Plan plan = make_plan(model, Paths{"/", "/"});
    CHECK(plan.users[0].home_backing == "/ryan");
    CHECK(plan.users[0].mounts[0].backing == "/site/a/b");
  }
  SECTION("relative directories stay relative") {
    const Plan plan = make_plan(model, Paths{"data", "vols"});
    CHECK(plan.users[0].home_backing == "data/ryan");
    CHECK(plan.users[0].mounts[1].backing == "vols/v");
  }
}

TEST_CASE("find returns null for a user who is not planned", "[mapping][plan]") {
  const Plan plan = make_plan(parsed_model("ryan:54321", ""), Paths{"/data", "/volumes"});
  CHECK(plan.find("ryan") == &plan.users[0]);
  CHECK(plan.find("gary") == nullptr);
  CHECK(plan.find("") == nullptr);
}

TEST_CASE("a plan is a pure function of model and paths", "[mapping][plan]") {
  const Model model = parsed_model("ryan:54321,gary:1001", "v:ryan:a,w:gary:b");
  const Paths paths{"/data", "/volumes"};
  CHECK(make_plan(model, paths) == make_plan(model, paths));
  CHECK(make_plan(Model{}, paths).users.empty());
}

TEST_CASE("the stored owner: owner=, else the folder's, never root", "[mapping][plan][owner]") {
  const Owner web{54321, 54321};
  const Owner root{0, 0};
  const Owner rule{33, 33};
  SECTION("owner= wins whatever the folder's owner") {
    for (const Access access : {Access::read_write, Access::read_only}) {
      const StoredOwner s = stored_owner(access, rule, root);
      CHECK(s.owner == rule);
      CHECK(s.from == OwnerFrom::rule);
      CHECK(s.refusal.empty());
    }
  }
  SECTION("without owner= a folder keeps its owner") {
    const StoredOwner s = stored_owner(Access::read_write, std::nullopt, web);
    CHECK(s.owner == web);
    CHECK(s.from == OwnerFrom::folder);
    CHECK(s.refusal.empty());
  }
  SECTION("a writable mapping of a root-owned folder is refused: files would be stored as root") {
    for (const Owner folder : {root, Owner{0, 33}, Owner{33, 0}}) {
      const StoredOwner s = stored_owner(Access::read_write, std::nullopt, folder);
      CHECK_THAT(s.refusal, Catch::Contains("files would be stored as root") && Catch::Contains("owner="));
    }
  }
  SECTION("a read-only one is served, reading as nobody where the folder says root") {
    CHECK(stored_owner(Access::read_only, std::nullopt, root).owner == Owner{kNobody, kNobody});
    CHECK(stored_owner(Access::read_only, std::nullopt, root).from == OwnerFrom::nobody);
    CHECK(stored_owner(Access::read_only, std::nullopt, root).refusal.empty());
    CHECK(stored_owner(Access::read_only, std::nullopt, Owner{0, 33}).owner == Owner{kNobody, 33});
    CHECK(stored_owner(Access::read_only, std::nullopt, Owner{33, 0}).owner == Owner{33, kNobody});
  }
}

