// The limits of folders (fs/quota.hpp) without a mount: what a quota takes
// and refuses, how a count settles usage while changes go on, chains taken
// all or nothing, and what an install does to folders no longer limited.
#include "fs/quota.hpp"

#include "support/catch.hpp"

using gw::fs::FolderQuota;
using gw::fs::QuotaChain;
using gw::fs::Quotas;
using gw::fs::Usage;
using gw::mapping::Limit;

namespace {

Limit limit(std::uint64_t bytes, std::uint64_t files) { return Limit{bytes, files}; }

// A quota counted empty, ready to take.
std::shared_ptr<FolderQuota> counted(Limit l) {
  auto q = std::make_shared<FolderQuota>("vol", l);
  q->count_started();
  q->count_finished(Usage{});
  return q;
}

}  // namespace

TEST_CASE("a quota takes up to its limit and refuses what would pass it", "[fs][limits]") {
  const auto q = counted(limit(100, 3));
  CHECK(q->take(Usage{60, 1}));
  CHECK(q->take(Usage{40, 1}));
  CHECK_FALSE(q->take(Usage{1, 0}));   // exactly at the limit: one byte more passes it
  CHECK(q->take(Usage{0, 1}));         // entries have a limit of their own
  CHECK_FALSE(q->take(Usage{0, 1}));
  CHECK(q->take(Usage{0, 0}));         // nothing more is always fine
  CHECK(q->snapshot().used == Usage{100, 3});
  q->give(Usage{30, 1});
  CHECK(q->take(Usage{30, 1}));
  q->give(Usage{1000, 1000});          // never below zero
  CHECK(q->snapshot().used == Usage{0, 0});
}

TEST_CASE("an uncounted limited folder takes no growth; an unlimited one takes anything", "[fs][limits]") {
  FolderQuota q("vol", limit(100, 10));
  CHECK_FALSE(q.snapshot().counted);
  CHECK_FALSE(q.take(Usage{1, 0}));
  CHECK_FALSE(q.take(Usage{0, 1}));
  q.give(Usage{5, 1});                 // freeing is always allowed
  FolderQuota free("vol", Limit{});
  CHECK(free.take(Usage{1ull << 50, 1u << 30}));
}

TEST_CASE("a count settles usage: growth during it is added, frees wait for the next one", "[fs][limits]") {
  const auto q = counted(limit(1000, 100));
  CHECK(q->take(Usage{100, 1}));
  q->count_started();
  CHECK(q->take(Usage{50, 1}));        // grows while the walk runs
  q->give(Usage{20, 0});               // freed while the walk runs
  CHECK(q->snapshot().used == Usage{130, 2});  // the previous figure stands meanwhile
  q->count_finished(Usage{400, 7});    // the walk found 400 (changed behind the gateway)
  CHECK(q->snapshot().used == Usage{450, 8});  // found + grown: never under what is there
  CHECK(q->snapshot().counted);
  // A second count with nothing going on gives exactly what it finds.
  q->count_started();
  q->count_finished(Usage{123, 4});
  CHECK(q->snapshot().used == Usage{123, 4});
}

TEST_CASE("an abandoned count leaves the figure it had", "[fs][limits]") {
  const auto q = counted(limit(1000, 100));
  CHECK(q->take(Usage{10, 1}));
  q->count_started();
  q->count_abandoned();
  CHECK(q->take(Usage{5, 0}));
  CHECK(q->snapshot().used == Usage{15, 1});
}

TEST_CASE("only one count waits for each folder", "[fs][limits]") {
  FolderQuota q("vol", limit(1, 1));
  CHECK(q.ask_count());
  CHECK_FALSE(q.ask_count());
  q.count_started();
  CHECK(q.ask_count());  // a new one may wait while this one runs
}

TEST_CASE("a chain takes from every limit or from none", "[fs][limits]") {
  const auto outer = counted(limit(1000, 100));
  const auto inner = counted(limit(100, 100));
  const QuotaChain chain{outer, inner};
  CHECK(gw::fs::take_all(chain, Usage{80, 1}) == nullptr);
  const FolderQuota* full = gw::fs::take_all(chain, Usage{30, 1});
  CHECK(full == inner.get());
  CHECK(outer->snapshot().used == Usage{80, 1});  // given back by the outer one
  CHECK(inner->snapshot().used == Usage{80, 1});
  gw::fs::give_all(chain, Usage{80, 1});
  CHECK(outer->snapshot().used == Usage{0, 0});
  CHECK(inner->snapshot().used == Usage{0, 0});
}

TEST_CASE("an install keeps usage of folders still limited and frees those no longer", "[fs][limits]") {
  Quotas quotas;
  CHECK_FALSE(quotas.any());
  const auto web = quotas.folder("web", limit(100, 10));
  web->count_started();
  web->count_finished(Usage{50, 5});
  quotas.install({{"web", web}});
  CHECK(quotas.any());
  const auto generation = quotas.generation();
  // A reload: the same folder comes back with its usage.
  const auto again = quotas.folder("web", limit(200, 10));
  CHECK(again == web);
  again->configure(limit(200, 10), {"ann:web"});
  quotas.install({{"web", again}});
  CHECK(quotas.generation() > generation);
  CHECK(web->snapshot().used == Usage{50, 5});
  CHECK(web->take(Usage{140, 0}));
  // A reload without it: chains still cached may count, nothing refuses.
  quotas.install({});
  CHECK_FALSE(quotas.any());
  CHECK(web->take(Usage{1000, 1000}));
  CHECK(quotas.report().empty());
}
