// The view's counters (fs/metrics): requests by kind and result, latency
// buckets, one block of counters per mapping label kept while a root uses
// it, refusals counted by the policy under their fixed kind, uploads counted
// once when they end; and the fixed label tables.
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "fs/metrics.hpp"
#include "fs/policy.hpp"
#include "fs/upload.hpp"
#include "fs_support.hpp"
#include "support/catch.hpp"

using namespace gw::fs;
using namespace std::chrono_literals;
using gw::test::backed;
using gw::test::MappingSpec;

namespace {

std::uint64_t count(const Metrics::Snapshot& s, RequestKind k, RequestResult r) {
  return s.requests[static_cast<std::size_t>(k)][static_cast<std::size_t>(r)];
}

const LatencyHistogram::Snapshot& latency(const Metrics::Snapshot& s, RequestClass c) {
  return s.latency[static_cast<std::size_t>(c)];
}

// A mapping root whose counters come from `metrics`, as the layout makes it.
std::shared_ptr<const MappingRoot> counted_mapping(Metrics& metrics, const MappingSpec& spec = {}) {
  auto m = std::const_pointer_cast<MappingRoot>(gw::test::make_mapping(spec));
  m->counters = metrics.mapping(m->label, m->user.name);
  return m;
}

struct Quiet {
  Quiet() { spdlog::set_level(spdlog::level::off); }
  ~Quiet() { spdlog::set_level(spdlog::level::info); }
};

}  // namespace

TEST_CASE("requests are counted by kind and result; unknown errnos are 'other'", "[fs][metrics]") {
  Metrics m;
  m.request(RequestKind::lookup, 0, 10us);
  m.request(RequestKind::lookup, ENOENT, 10us);
  m.request(RequestKind::lookup, ENOENT, 10us);
  m.request(RequestKind::create, EDQUOT, 10us);
  m.request(RequestKind::write, EHOSTDOWN, 10us);
  const auto s = m.snapshot();
  CHECK(count(s, RequestKind::lookup, RequestResult::ok) == 1);
  CHECK(count(s, RequestKind::lookup, RequestResult::enoent) == 2);
  CHECK(count(s, RequestKind::create, RequestResult::edquot) == 1);
  CHECK(count(s, RequestKind::write, RequestResult::other) == 1);
  CHECK(count(s, RequestKind::write, RequestResult::ok) == 0);
  CHECK(request_result(ENODATA) == RequestResult::enodata);
  CHECK(name(RequestResult::ok) == "ok");
  CHECK(name(RequestResult::enoent) == "ENOENT");
  CHECK(name(RequestResult::other) == "other");
}

TEST_CASE("latency goes to the class's histogram: a bound is inclusive, buckets read cumulative", "[fs][metrics]") {
  Metrics m;
  m.request(RequestKind::getattr, 0, 50us);           // metadata, <= 100 us
  m.request(RequestKind::lookup, 0, 100us);           // exactly the first bound: still in it
  m.request(RequestKind::open, 0, 100us + 1ns);       // the next bucket (<= 250 us)
  m.request(RequestKind::rename, 0, 30s);             // beyond the last bound: +Inf only
  m.request(RequestKind::read, 0, 3ms);               // read class
  m.request(RequestKind::readdirplus, ENOENT, 1ms);   // dir class: failed requests are timed too
  const auto s = m.snapshot();
  const auto& meta = latency(s, RequestClass::metadata);
  CHECK(meta.cumulative[0] == 2);
  CHECK(meta.cumulative[1] == 3);
  CHECK(meta.cumulative[LatencyHistogram::kBuckets - 2] == 3);  // <= 5 s
  CHECK(meta.cumulative.back() == 4);                           // +Inf: the count
  CHECK(meta.sum_ns == (50'000 + 100'000 + 100'001 + 30'000'000'000ull));
  for (std::size_t i = 1; i < LatencyHistogram::kBuckets; ++i) CHECK(meta.cumulative[i] >= meta.cumulative[i - 1]);
  CHECK(latency(s, RequestClass::read).cumulative.back() == 1);
  CHECK(latency(s, RequestClass::read).cumulative[4] == 0);  // <= 2.5 ms
  CHECK(latency(s, RequestClass::read).cumulative[5] == 1);  // <= 5 ms
  CHECK(latency(s, RequestClass::dir).cumulative.back() == 1);
  CHECK(latency(s, RequestClass::write).cumulative.back() == 0);
}

TEST_CASE("a mapping label has one block of counters while any root holds it", "[fs][metrics]") {
  Metrics m;
  auto a = m.mapping("ann:web", "ann");
  auto again = m.mapping("ann:web", "ann");  // a reload rebuilding the root: same counters
  CHECK(a == again);
  a->count_read(100);
  a->count_written(7);
  a->count_upload(UploadOutcome::published);
  auto home = m.mapping("ann:~", "ann");
  auto s = m.snapshot();
  REQUIRE(s.mappings.size() == 2);
  CHECK(s.mappings[0].label == "ann:web");  // by label
  CHECK(s.mappings[0].user == "ann");
  CHECK(s.mappings[0].bytes_read == 100);
  CHECK(s.mappings[0].bytes_written == 7);
  CHECK(s.mappings[0].uploads[static_cast<std::size_t>(UploadOutcome::published)] == 1);
  CHECK(s.mappings[1].label == "ann:~");
  a.reset();
  again.reset();  // no root serves ann:web any more: its series end
  s = m.snapshot();
  REQUIRE(s.mappings.size() == 1);
  CHECK(s.mappings[0].label == "ann:~");
  CHECK(m.mapping("ann:web", "ann")->bytes_read.load() == 0);  // served again later: counts from zero
}

TEST_CASE("the policy counts each refusal once, under its reason's kind", "[fs][metrics][policy]") {
  Quiet quiet;
  Metrics metrics;
  const Policy policy(AuditTrail::off(), &metrics);
  const InodePtr ro = backed(10, gw::test::make_mapping(MappingSpec{.read_only = true}), S_IFDIR);
  const InodePtr rw = backed(11, gw::test::make_mapping(), S_IFDIR);
  const Caller ann{61000, 61000, 2}, bob{61001, 61001, 3};
  CHECK_FALSE(policy.check(*rw, Op::create, ann, "a"));  // allowed: nothing counted
  CHECK(policy.check(*ro, Op::create, ann, "a").err == EROFS);
  CHECK(policy.check(*ro, Op::unlink, ann, "a").err == EROFS);
  CHECK(policy.check(*rw, Op::getattr, bob).err == EACCES);
  CHECK(policy.refuse(*rw, Op::create, ann, EDQUOT, "quota", "big").err == EDQUOT);
  CHECK(policy.refuse(*rw, Op::rename, ann, EXDEV, "rename across mappings", "a").err == EXDEV);
  CHECK(policy.refuse(*rw, Op::link, ann, EXDEV, "hard link across mappings", "a").err == EXDEV);
  const auto s = metrics.snapshot();
  const auto refused = [&](Refusal r) { return s.refusals[static_cast<std::size_t>(r)]; };
  CHECK(refused(Refusal::read_only_mapping) == 2);
  CHECK(refused(Refusal::other_user) == 1);
  CHECK(refused(Refusal::quota) == 1);
  CHECK(refused(Refusal::cross_mapping) == 2);  // two texts, one kind
  CHECK(refused(Refusal::open_files) == 0);
}

TEST_CASE("an upload is counted once, when it ends, under its outcome", "[fs][metrics][upload]") {
  Metrics metrics;
  const auto mapping = counted_mapping(metrics);
  const InodePtr dir = backed(10, mapping, S_IFDIR);
  Uploads uploads;
  const auto start = [&](const char* name) {
    auto up = std::make_shared<Upload>(dir, *Name::from(name), Uploads().new_temporary_name());
    uploads.add(up);
    return up;
  };
  auto published = start("a");
  uploads.apply(*published, UploadEvent::start_publish);
  CHECK(mapping->counters->uploads[0].load() == 0);  // publishing is not an end yet
  uploads.apply(*published, UploadEvent::publish);
  auto failed = start("b");
  uploads.apply(*failed, UploadEvent::fail, ENOSPC);
  uploads.apply(*failed, UploadEvent::fail, ENOSPC);  // stays failed: not an end
  uploads.apply(*failed, UploadEvent::discard);
  auto detached = start("c");
  uploads.apply(*detached, UploadEvent::detach);
  uploads.apply(*detached, UploadEvent::drop);
  const auto ended = [&](UploadOutcome o) { return mapping->counters->uploads[static_cast<std::size_t>(o)].load(); };
  CHECK(ended(UploadOutcome::published) == 1);
  CHECK(ended(UploadOutcome::discarded) == 1);
  CHECK(ended(UploadOutcome::dropped) == 1);
  CHECK(ended(UploadOutcome::cancelled) == 0);
}

TEST_CASE("label tables: every request, result, class, refusal and outcome has its own name", "[fs][metrics]") {
  const auto snake = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string_view::npos;
  };
  std::set<std::string_view> requests;
  for (std::size_t k = 0; k < kRequestKinds; ++k) {
    const RequestKindInfo& i = info(static_cast<RequestKind>(k));
    CHECK(i.kind == static_cast<RequestKind>(k));
    CHECK(snake(i.name));
    requests.insert(i.name);
  }
  CHECK(requests.size() == kRequestKinds);
  CHECK(RequestName("readdirplus").kind() == RequestKind::readdirplus);
  CHECK(std::string(RequestName("getattr").c_str()) == "getattr");
  CHECK(info(RequestKind::flush).cls == RequestClass::write);  // flush publishes uploads
  CHECK(info(RequestKind::opendir).cls == RequestClass::dir);
  std::set<std::string_view> results, refusals, outcomes, classes;
  for (std::size_t r = 0; r < kResults; ++r) results.insert(name(static_cast<RequestResult>(r)));
  CHECK(results.size() == kResults);
  for (std::size_t r = 0; r < kRefusals; ++r) {
    CHECK(snake(name(static_cast<Refusal>(r))));
    refusals.insert(name(static_cast<Refusal>(r)));
  }
  CHECK(refusals.size() == kRefusals);
  for (std::size_t o = 0; o < kUploadOutcomes; ++o) outcomes.insert(name(static_cast<UploadOutcome>(o)));
  CHECK(outcomes.size() == kUploadOutcomes);
  for (std::size_t c = 0; c < kRequestClasses; ++c) classes.insert(name(static_cast<RequestClass>(c)));
  CHECK(classes == std::set<std::string_view>{"metadata", "read", "write", "dir"});
  // Every kind of refusal is reachable from some text.
  std::set<Refusal> reachable;
  for (const auto& row : detail::kRefusalTexts) reachable.insert(row.kind);
  CHECK(reachable.size() == kRefusals);
  const RefusalReason reason("another user's chroot");
  CHECK(reason.kind() == Refusal::other_user);
  CHECK(reason.text() == "another user's chroot");
}
