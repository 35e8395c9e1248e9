// HandleQuota: open files and folders per user and in all, given back when
// the handle's token goes.
#include <utility>
#include <vector>

#include "fs/handle_quota.hpp"
#include "support/catch.hpp"

using gw::fs::HandleQuota;

TEST_CASE("each user gets up to the per-user cap; others are unaffected", "[fs][quota]") {
  HandleQuota q(3, 100);
  std::vector<HandleQuota::Token> ann;
  for (int i = 0; i < 3; ++i) {
    ann.push_back(q.acquire(61000));
    CHECK(ann.back());
  }
  CHECK_FALSE(q.acquire(61000));  // at the cap
  CHECK(q.held(61000) == 3);
  const HandleQuota::Token bob = q.acquire(61001);
  CHECK(bob);
  CHECK(q.held(61001) == 1);
  CHECK(q.held() == 4);
  ann.pop_back();  // one closed: one may open again
  CHECK(q.held(61000) == 2);
  CHECK(q.acquire(61000));  // taken and given back at once
  CHECK(q.held(61000) == 2);
}

TEST_CASE("all users together get up to the total cap", "[fs][quota]") {
  HandleQuota q(10, 4);
  std::vector<HandleQuota::Token> held;
  for (uid_t uid = 1; uid <= 4; ++uid) held.push_back(q.acquire(uid));
  CHECK_FALSE(q.acquire(5));
  CHECK_FALSE(q.acquire(1));
  CHECK(q.held(5) == 0);
  held.clear();
  CHECK(q.held() == 0);
  CHECK(q.acquire(5));
}

TEST_CASE("a token counts once however it is moved", "[fs][quota]") {
  HandleQuota q(2, 10);
  HandleQuota::Token a = q.acquire(1);
  HandleQuota::Token b(std::move(a));
  CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  CHECK(b);
  CHECK(q.held(1) == 1);
  HandleQuota::Token c = q.acquire(1);
  c = std::move(b);  // c's own handle is given back, b's is now c's
  CHECK(q.held(1) == 1);
  c.reset();
  CHECK(q.held(1) == 0);
  CHECK(q.held() == 0);
  HandleQuota::Token empty;
  CHECK_FALSE(empty);
  empty.reset();  // nothing to give back
  CHECK(q.held() == 0);
}
