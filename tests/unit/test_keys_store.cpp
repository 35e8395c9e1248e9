// The key store on a temp state folder: round trip, duplicates, atomic
// writes, modes, configured users only, and what the etc tree renders.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/cli_support.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/keys/key_store.hpp"
#include "support/catch.hpp"
#include "support/keys_support.hpp"
#include "support/projected_volume.hpp"

using gw::gateway::AuthorizedKey;
using gw::gateway::KeyStore;
using gw::gateway::parse_keys;
using gw::test::mode_of;
using gw::test::read_text;
using gw::test::TempDir;
using gw::test::test_keys;

namespace {

const std::vector<gw::mapping::User> users{{"ryan", 54321, 54321}, {"gary", 1001, 1001}};

AuthorizedKey key_of(const std::string& pub) { return parse_keys(pub, "test").at(0); }

std::vector<std::string> folder_entries(const std::string& path) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(path)) names.push_back(entry.path().filename());
  return names;
}

template <typename F>
std::string usage_error(F&& f) {
  try {
    f();
  } catch (const gw::gateway::UsageError& e) {
    return e.what();
  }
  FAIL("no usage error");
  return {};
}

}  // namespace

TEST_CASE("add, list, remove and clear round trip", "[keys][store]") {
  const auto& k = test_keys();
  const TempDir state;
  KeyStore store(state.path().string(), "ryan", users);
  CHECK(store.list().empty());  // nothing yet, and nothing created by reading

  const auto added = store.add({key_of(k.ed25519.pub), key_of(k.rsa3072.pub)});
  REQUIRE(added.size() == 2);
  CHECK_FALSE(added[0].already_present);
  CHECK_FALSE(added[1].already_present);
  const std::string file = state / "authorized_keys/ryan";
  CHECK(read_text(file) == k.ed25519.pub + "\n" + k.rsa3072.pub + "\n");

  // The same blob again (another comment) and twice in one input: present.
  AuthorizedKey renamed = key_of(k.ed25519.pub);
  renamed.comment = "other comment";
  const auto again = store.add({renamed, key_of(k.more_ed25519[0].pub), key_of(k.more_ed25519[0].pub)});
  REQUIRE(again.size() == 3);
  CHECK(again[0].already_present);
  CHECK_FALSE(again[1].already_present);
  CHECK(again[2].already_present);

  const auto listed = store.list();
  REQUIRE(listed.size() == 3);
  CHECK(listed[0].fingerprint == k.ed25519.fingerprint);
  CHECK(listed[0].comment == "ed25519@test");
  CHECK(listed[1].bits == 3072);
  CHECK(listed[2].fingerprint == k.more_ed25519[0].fingerprint);

  CHECK(store.remove(k.rsa3072.fingerprint).fingerprint == k.rsa3072.fingerprint);
  CHECK(store.list().size() == 2);
  CHECK_THAT(usage_error([&] { store.remove(k.rsa3072.fingerprint); }),
             Catch::StartsWith("user ryan has no key " + k.rsa3072.fingerprint + " (its keys: SHA256:"));
  CHECK_THAT(usage_error([&] { store.remove("MD5:aa:bb"); }), Catch::Contains("is not a SHA256 fingerprint"));

  CHECK(store.clear() == 2);
  CHECK(store.list().empty());
  CHECK(read_text(file).empty());
  CHECK_THAT(usage_error([&] { store.remove(k.ed25519.fingerprint); }), Catch::EndsWith("(it has no keys)"));
  // Another user's keys are their own.
  CHECK(KeyStore(state.path().string(), "gary", users).list().empty());
}

TEST_CASE("writes are atomic, private and leave no temporary file", "[keys][store]") {
  const auto& k = test_keys();
  const TempDir base;
  const std::string state = base / "state";  // created by the first change
  KeyStore store(state, "ryan", users);
  store.add({key_of(k.ed25519.pub)});
  CHECK(mode_of(state) == 0700);
  CHECK(mode_of(state + "/authorized_keys") == 0700);
  CHECK(mode_of(state + "/authorized_keys/ryan") == 0644);
  CHECK(folder_entries(state + "/authorized_keys") == std::vector<std::string>{"ryan"});

  // A temporary file left by a crashed run is replaced, not an obstacle.
  gw::test::write_file(state + "/authorized_keys/.ryan.new", "half a file");
  ::chmod((state + "/authorized_keys").c_str(), 0755);  // and a loosened folder is made private again
  store.add({key_of(k.rsa3072.pub)});
  CHECK(folder_entries(state + "/authorized_keys") == std::vector<std::string>{"ryan"});
  CHECK(mode_of(state + "/authorized_keys") == 0700);
  CHECK(store.list().size() == 2);
}

TEST_CASE("concurrent changes do not lose one another", "[keys][store]") {
  const auto& k = test_keys();
  const TempDir state;
  std::vector<std::thread> threads;
  // flock locks belong to the open file description, so threads contend
  // exactly as separate `gateway keys` processes would.
  for (const auto& generated : k.more_ed25519) {
    threads.emplace_back([&state, &generated] {
      KeyStore(state.path().string(), "ryan", users).add({key_of(generated.pub)});
    });
  }
  for (auto& t : threads) t.join();
  CHECK(KeyStore(state.path().string(), "ryan", users).list().size() == k.more_ed25519.size());
}

TEST_CASE("only configured users have a key store", "[keys][store]") {
  const TempDir state;
  CHECK(usage_error([&] { KeyStore(state.path().string(), "bob", users); }) ==
        "unknown user 'bob' (configured: ryan, gary)");
  CHECK(usage_error([&] { KeyStore(state.path().string(), "rayn", users); }) ==
        "unknown user 'rayn' (did you mean 'ryan'? configured: ryan, gary)");
  CHECK_THAT(usage_error([&] { KeyStore(state.path().string(), "ryan", {}); }),
             Catch::Contains("no users are configured"));
  CHECK_THAT(usage_error([&] { KeyStore(state.path().string(), "../ryan", users); }),
             Catch::StartsWith("unknown user '../ryan'"));
  CHECK(folder_entries(state.path().string()).empty());
}

TEST_CASE("the etc tree gets only keys that still validate", "[keys][store]") {
  const auto& k = test_keys();
  const TempDir state;
  std::filesystem::create_directories(state / "authorized_keys");
  // A hand-edited file: a good key, a small RSA key, options, garbage, a duplicate.
  gw::test::write_file(state / "authorized_keys/ryan",
                       k.ed25519.pub + "\n" + k.rsa2048.pub + "\ncommand=\"sh\" " + k.rsa3072.pub +
                           "\nnot a key\n\n# comment\n" + k.rsa3072.pub + "\n" + k.ed25519.pub + "\n");
  CHECK(gw::gateway::render_authorized_keys(state.path().string(), "", "ryan") ==
        k.ed25519.pub + "\n" + k.rsa3072.pub + "\n");
  CHECK(KeyStore(state.path().string(), "ryan", users).list().size() == 2);
  // No file: no keys. A symlink or a folder in place of the file: no keys either (fail closed).
  CHECK(gw::gateway::render_authorized_keys(state.path().string(), "", "gary").empty());
  std::filesystem::create_symlink(state / "authorized_keys/ryan", state / "authorized_keys/gary");
  CHECK(gw::gateway::load_authorized_keys(state.path().string(), "gary").empty());
  std::filesystem::create_directory(state / "authorized_keys/alice");
  CHECK(gw::gateway::load_authorized_keys(state.path().string(), "alice").empty());
  CHECK(gw::gateway::load_authorized_keys(state / "missing", "ryan").empty());
}

TEST_CASE("--authorized-keys-dir: the kubelet's projected layout, followed beneath the folder only", "[keys][store]") {
  const auto& k = test_keys();
  const TempDir state, outside;
  std::filesystem::create_directories(state / "authorized_keys");
  gw::test::write_file(state / "authorized_keys/ryan", k.ed25519.pub + "\n");
  gw::test::ProjectedVolume provided(state / "provided");
  provided.publish({{"ryan", k.rsa3072.pub + "\n" + k.ed25519.pub + "\n"}, {"gary", k.ed25519.pub + "\n"}});
  const std::string dir = provided.path().string();
  // ryan -> ..data/ryan -> ..<ts>/ryan: followed; the stored key comes first, each key once.
  CHECK(gw::gateway::render_authorized_keys(state.path().string(), dir, "ryan") ==
        k.ed25519.pub + "\n" + k.rsa3072.pub + "\n");
  CHECK(gw::gateway::render_authorized_keys(state.path().string(), dir, "gary") == k.ed25519.pub + "\n");
  CHECK(gw::gateway::render_authorized_keys(state.path().string(), dir, "alice").empty());
  // A swap of ..data: the new content, the old gone.
  provided.publish({{"ryan", k.rsa3072.pub + "\n"}});
  CHECK(gw::gateway::render_authorized_keys(state.path().string(), dir, "gary").empty());
  CHECK(gw::gateway::load_provided_keys(dir, "ryan").size() == 1);
  // Links that lead out of the folder are refused, absolute or relative.
  gw::test::write_file(outside / "keys", k.ed25519.pub + "\n");
  std::filesystem::create_symlink(outside / "keys", provided.path() / "alice");
  std::filesystem::create_symlink(std::filesystem::relative(outside / "keys", provided.path()), provided.path() / "bob");
  CHECK(gw::gateway::load_provided_keys(dir, "alice").empty());
  CHECK(gw::gateway::load_provided_keys(dir, "bob").empty());
  // A name that is no user name never becomes a path.
  CHECK(gw::gateway::load_provided_keys(dir, "..data").empty());
  CHECK(gw::gateway::load_provided_keys(state / "missing", "ryan").empty());
}
