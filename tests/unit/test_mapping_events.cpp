// Which kinds of event a mapping reports: the kind names, the rule option
// events=KINDS read and refused the way quota= and umask= are, rendered back,
// and resolved by the plan against --event-kinds (Defaults::events).
#include "mapping/event_kinds.hpp"
#include "mapping/plan.hpp"
#include "mapping/values.hpp"
#include "mapping_support.hpp"
#include "support/catch.hpp"

using namespace gw::mapping;
using gw::test::all_lines;
using gw::test::has_exact_line;
using gw::test::has_line;
using gw::test::make_rule;
using gw::test::parse_env;

namespace {

Parsed rule_only(std::string_view rule) { return parse_env("ryan:54321,gary:1001", rule); }

std::optional<EventKinds> events_of(std::string_view rule) {
  const Parsed parsed = rule_only(rule);
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  REQUIRE(parsed.model.rules.size() == 1);
  return parsed.model.rules.front().events;
}

constexpr EventKinds kUpload = bit(EventKind::upload), kRemove = bit(EventKind::remove),
                     kRename = bit(EventKind::rename), kMkdir = bit(EventKind::mkdir),
                     kRefusal = bit(EventKind::refusal);

const std::string hint = "; give kinds joined by '+' from upload, remove, rename, mkdir, refusal, or none";

}  // namespace

TEST_CASE("event kinds have one name each, found back by it", "[mapping][events]") {
  CHECK(event_kind_name(EventKind::upload) == "upload");
  CHECK(event_kind_name(EventKind::remove) == "remove");
  CHECK(event_kind_name(EventKind::rename) == "rename");
  CHECK(event_kind_name(EventKind::mkdir) == "mkdir");
  CHECK(event_kind_name(EventKind::refusal) == "refusal");
  for (int i = 0; i < kEventKinds; ++i) {
    const auto kind = static_cast<EventKind>(i);
    CHECK(find_event_kind(event_kind_name(kind)) == kind);
  }
  CHECK_FALSE(find_event_kind("Upload"));
  CHECK_FALSE(find_event_kind(""));
  CHECK_FALSE(find_event_kind("none"));
  CHECK(kAllEventKinds == (kUpload | kRemove | kRename | kMkdir | kRefusal));
  CHECK(render_event_kinds(kAllEventKinds, ',') == "upload,remove,rename,mkdir,refusal");
  CHECK(render_event_kinds(kRefusal | kUpload, '+') == "upload+refusal");
  CHECK(render_event_kinds(0, '+') == "none");
}

TEST_CASE("a set of kinds is read from names joined by a separator, or none", "[mapping][values]") {
  CHECK(read_event_kinds("upload", "events", '+').value == kUpload);
  CHECK(read_event_kinds("refusal+upload+mkdir", "events", '+').value == (kUpload | kMkdir | kRefusal));
  CHECK(read_event_kinds("upload+remove+rename+mkdir+refusal", "events", '+').value == kAllEventKinds);
  CHECK(read_event_kinds("none", "events", '+').value == EventKinds{0});
  CHECK(read_event_kinds("upload,remove", "--event-kinds", ',').value == (kUpload | kRemove));
  CHECK(read_event_kinds("upload,remove", "--event-kinds", ',').problem.empty());
}

TEST_CASE("a set of kinds that is not: refused with what would be valid", "[mapping][values]") {
  const auto problem = [](std::string_view text) {
    const auto read = read_event_kinds(text, "events", '+');
    CHECK_FALSE(read.value);
    return read.problem;
  };
  CHECK(problem("") == "events is empty" + hint);
  CHECK(problem("uplaod") == "events 'uplaod' names an unknown kind 'uplaod' (did you mean 'upload'?)" + hint);
  CHECK(problem("upload+delete") == "events 'upload+delete' names an unknown kind 'delete'" + hint);
  CHECK(problem("upload+") == "events 'upload+' has an empty kind" + hint);
  CHECK(problem("+upload") == "events '+upload' has an empty kind" + hint);
  CHECK(problem("upload++mkdir") == "events 'upload++mkdir' has an empty kind" + hint);
  CHECK(problem("upload+upload") == "events 'upload+upload' names 'upload' twice" + hint);
  CHECK(problem("none+upload") == "events 'none+upload': none stands alone" + hint);
  CHECK(problem("all") == "events 'all' names an unknown kind 'all'" + hint);
  CHECK(problem("UPLOAD") == "events 'UPLOAD' names an unknown kind 'UPLOAD'" + hint);
  // The command line's separator is named in its hint.
  CHECK(read_event_kinds("upload+mkdir", "--event-kinds", ',').problem ==
        "--event-kinds 'upload+mkdir' names an unknown kind 'upload+mkdir'; give kinds joined by ',' from upload, "
        "remove, rename, mkdir, refusal, or none");
}

TEST_CASE("rule option events=", "[mapping][parse]") {
  CHECK_FALSE(events_of("thttpd_files:ryan:web"));
  CHECK(events_of("thttpd_files:ryan:web:events=upload+remove") == (kUpload | kRemove));
  CHECK(events_of("thttpd_files:ryan:web:events=none") == EventKinds{0});
  SECTION("among the other options, in any order") {
    const Parsed parsed = rule_only("v/site:ryan:web:events=mkdir:owner=33:34:umask=027:ro");
    INFO(all_lines(parsed));
    REQUIRE(parsed.ok());
    const Rule& rule = parsed.model.rules.front();
    CHECK(rule.events == kMkdir);
    CHECK(rule.owner == Owner{33, 34});
    CHECK(rule.access == Access::read_only);
    CHECK(events_of("v:ryan:web:owner=33:34:events=rename") == kRename);
  }
}

TEST_CASE("bad events= name the item and say what is valid", "[mapping][validate]") {
  CHECK(has_exact_line(rule_only("v:ryan:web:events=upload+delete"),
                       "SFTP_VOLUMES item 1: 'v:ryan:web:events=upload+delete': events 'upload+delete' names an "
                       "unknown kind 'delete'" + hint));
  CHECK(has_exact_line(rule_only("v:ryan:web:events="), "SFTP_VOLUMES item 1: 'v:ryan:web:events=': events is empty" + hint));
  CHECK(has_exact_line(rule_only("v:ryan:web:events=upload:events=none"),
                       "SFTP_VOLUMES item 1: 'v:ryan:web:events=upload:events=none': option events= is given more "
                       "than once; give one events=KINDS"));
  CHECK(has_line(rule_only("v:ryan:web:event=upload"), {"unknown option 'event=upload' (did you mean 'events=KINDS'?)"}));
  CHECK(has_line(rule_only("v:ryan:web:ro:events=mkdir:refusal"), {"unknown option 'refusal'"}));
  const Parsed bad = rule_only("v:ryan:web:events=uplod");
  CHECK(bad.problems.size() == 1);
  CHECK(bad.model.rules.empty());
}

TEST_CASE("events= renders after the other options and reads back", "[mapping][render]") {
  Rule rule = make_rule("v", "ryan", "web", "site");
  CHECK(render_rule(rule) == "v/site:ryan:web");
  rule.umask = 027;
  rule.events = static_cast<EventKinds>(kRefusal | kUpload);
  CHECK(render_rule(rule) == "v/site:ryan:web:umask=0027:events=upload+refusal");
  rule.events = EventKinds{0};
  CHECK(render_rule(rule) == "v/site:ryan:web:umask=0027:events=none");
  const Parsed parsed = rule_only(render_rule(rule));
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  CHECK(parsed.model.rules.front() == rule);
}

TEST_CASE("the plan resolves events: the rule's, else --event-kinds; homes --event-kinds", "[mapping][plan]") {
  const Parsed parsed = parse_env("ryan:54321", "v/s:ryan:a:events=upload,w:ryan:b,x:ryan:c:events=none");
  INFO(all_lines(parsed));
  REQUIRE(parsed.ok());
  SECTION("by default every kind") {
    const Plan plan = make_plan(parsed.model, Paths{"/d", "/v"});
    const UserPlan& ryan = *plan.find("ryan");
    CHECK(ryan.home_events == kAllEventKinds);
    CHECK(ryan.mounts[0].events == kUpload);
    CHECK(ryan.mounts[1].events == kAllEventKinds);
    CHECK(ryan.mounts[2].events == EventKinds{0});
  }
  SECTION("the defaults fill what a rule leaves out, and the home") {
    Defaults defaults;
    defaults.events = static_cast<EventKinds>(kRemove | kRename);
    const Plan plan = make_plan(parsed.model, Paths{"/d", "/v"}, defaults);
    const UserPlan& ryan = *plan.find("ryan");
    CHECK(ryan.home_events == (kRemove | kRename));
    CHECK(ryan.mounts[0].events == kUpload);
    CHECK(ryan.mounts[1].events == (kRemove | kRename));
    CHECK(ryan.mounts[2].events == EventKinds{0});
    // A plan differs when only the defaults do: a reload applies them.
    CHECK_FALSE(plan == make_plan(parsed.model, Paths{"/d", "/v"}));
  }
}
