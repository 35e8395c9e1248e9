// The upload state machine: every transition it allows, every one it
// refuses, and what a close and a release do in each state. The expected
// table is written out here independently of fs/upload_state.cpp.
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fs/upload_state.hpp"
#include "support/catch.hpp"

using gw::fs::UploadEvent;
using gw::fs::UploadState;
using gw::fs::UploadStep;

namespace {

using S = UploadState;
using E = UploadEvent;

const std::vector<S> kAllStates = {S::writing,    S::failed,    S::abandoned, S::detached, S::publishing,
                                   S::published,  S::cancelled, S::dropped,   S::discarded};
const std::vector<E> kAllEvents = {E::fail,    E::abandon, E::detach, E::start_publish,
                                   E::publish, E::cancel,  E::drop,   E::discard};

// Every allowed transition; any pair not listed must be refused.
const std::map<std::pair<S, E>, S> kAllowed = {
    // An upload being written can go anywhere but straight to an end that
    // needs a publish under way (publish, cancel) or a detach (drop).
    {{S::writing, E::fail}, S::failed},
    {{S::writing, E::abandon}, S::abandoned},
    {{S::writing, E::detach}, S::detached},
    {{S::writing, E::start_publish}, S::publishing},
    {{S::writing, E::discard}, S::discarded},
    // A failed upload is never published: only discarded. It stays failed
    // on anything else (its write error is what the close reports).
    {{S::failed, E::fail}, S::failed},
    {{S::failed, E::abandon}, S::failed},
    {{S::failed, E::detach}, S::failed},
    {{S::failed, E::discard}, S::discarded},
    // Abandoned: never published either; a write error makes it failed.
    {{S::abandoned, E::fail}, S::failed},
    {{S::abandoned, E::abandon}, S::abandoned},
    {{S::abandoned, E::detach}, S::abandoned},
    {{S::abandoned, E::discard}, S::discarded},
    // Detached: nothing to publish; its close drops it.
    {{S::detached, E::fail}, S::failed},
    {{S::detached, E::abandon}, S::abandoned},
    {{S::detached, E::drop}, S::dropped},
    {{S::detached, E::discard}, S::discarded},
    // Publishing ends one way or another; late events change nothing.
    {{S::publishing, E::fail}, S::publishing},
    {{S::publishing, E::abandon}, S::publishing},
    {{S::publishing, E::publish}, S::published},
    {{S::publishing, E::cancel}, S::cancelled},
    {{S::publishing, E::discard}, S::discarded},
    // Ended: late events of a dup'd descriptor change nothing.
    {{S::published, E::fail}, S::published},
    {{S::published, E::abandon}, S::published},
    {{S::cancelled, E::fail}, S::cancelled},
    {{S::cancelled, E::abandon}, S::cancelled},
    {{S::dropped, E::fail}, S::dropped},
    {{S::dropped, E::abandon}, S::dropped},
    {{S::discarded, E::fail}, S::discarded},
    {{S::discarded, E::abandon}, S::discarded},
};

std::string label(S s, E e) { return std::string(name(s)) + " --" + std::string(name(e)) + "-->"; }

}  // namespace

TEST_CASE("every allowed upload transition leads where the lifecycle says", "[fs][upload]") {
  for (const auto& [from, to] : kAllowed) {
    INFO(label(from.first, from.second) << " " << name(to));
    const auto next = after(from.first, from.second);
    REQUIRE(next.has_value());
    CHECK(*next == to);
  }
}

TEST_CASE("every other upload transition is refused", "[fs][upload]") {
  std::size_t refused = 0;
  for (const S s : kAllStates)
    for (const E e : kAllEvents) {
      if (kAllowed.count({s, e})) continue;
      INFO(label(s, e));
      CHECK_FALSE(after(s, e).has_value());
      ++refused;
    }
  CHECK(refused + kAllowed.size() == kAllStates.size() * kAllEvents.size());
  // The refusals that carry the lifecycle's promises:
  CHECK_FALSE(after(S::failed, E::start_publish));    // a failed upload is never published
  CHECK_FALSE(after(S::abandoned, E::start_publish)); // nor one its client was killed during
  CHECK_FALSE(after(S::detached, E::start_publish));  // nor one that lost its name
  CHECK_FALSE(after(S::writing, E::publish));         // a publish is always under way first
  CHECK_FALSE(after(S::publishing, E::detach));       // its name left the registry already
  for (const S s : {S::published, S::cancelled, S::dropped, S::discarded})
    for (const E e : {E::detach, E::start_publish, E::publish, E::cancel, E::drop, E::discard}) {
      INFO(label(s, e));
      CHECK_FALSE(after(s, e));  // an ended upload never ends again
    }
}

TEST_CASE("exactly the four end states are ended", "[fs][upload]") {
  const std::set<S> ended_states = {S::published, S::cancelled, S::dropped, S::discarded};
  for (const S s : kAllStates) {
    INFO(name(s));
    CHECK(ended(s) == (ended_states.count(s) == 1));
  }
}

TEST_CASE("a close publishes a written upload, drops a detached one and leaves the rest to the release",
          "[fs][upload]") {
  const std::map<S, std::pair<UploadStep, UploadStep>> expected = {
      // state            close               release
      {S::writing, {UploadStep::publish, UploadStep::publish}},
      {S::failed, {UploadStep::discard, UploadStep::discard}},
      {S::abandoned, {UploadStep::none, UploadStep::discard}},
      {S::detached, {UploadStep::drop, UploadStep::drop}},
      {S::publishing, {UploadStep::none, UploadStep::none}},
      {S::published, {UploadStep::none, UploadStep::none}},
      {S::cancelled, {UploadStep::none, UploadStep::none}},
      {S::dropped, {UploadStep::none, UploadStep::none}},
      {S::discarded, {UploadStep::none, UploadStep::none}},
  };
  REQUIRE(expected.size() == kAllStates.size());
  for (const auto& [s, steps] : expected) {
    INFO(name(s));
    CHECK(at_close(s) == steps.first);
    CHECK(at_release(s) == steps.second);
  }
  // Whatever a step leads to is a transition the machine allows.
  for (const S s : kAllStates) {
    INFO(name(s));
    for (const UploadStep step : {at_close(s), at_release(s)}) {
      if (step == UploadStep::publish) CHECK(after(s, E::start_publish));
      if (step == UploadStep::drop) CHECK(after(s, E::drop));
      if (step == UploadStep::discard) CHECK(after(s, E::discard));
    }
  }
}

TEST_CASE("states and events have distinct names for log lines", "[fs][upload]") {
  std::set<std::string> names;
  for (const S s : kAllStates) names.insert(std::string(name(s)));
  for (const E e : kAllEvents) names.insert(std::string(name(e)));
  CHECK(names.size() == kAllStates.size() + kAllEvents.size());
  CHECK(name(S::publishing) == "publishing");
  CHECK(name(E::start_publish) == "start_publish");
}
