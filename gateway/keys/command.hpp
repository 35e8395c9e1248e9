// `gateway keys add|list|remove|clear`: the users' authorized keys in the
// state folder (keys/key_store.hpp). A running `gateway serve` watches that
// folder, so a change is visible to the next login without a reload.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "gateway/options/options.hpp"

namespace gw::gateway {

// Takes the action (first word) and the operands (FILE, FINGERPRINT) out of
// args, the arguments after `keys`, and reads --user; what is left are the
// options every command shares. With --help, only --help is left.
// Throws UsageError for a missing or unknown action or wrong operands.
KeysRequest take_keys_request(std::vector<std::string>& args);

// The synopsis `gateway keys --help` starts with.
std::string keys_usage();

// Runs settings.keys; `add` without FILE, or with `-`, reads in. Prints one
// line per key or action on out. Returns the exit code; bad input throws
// UsageError (exit code 2), I/O failures ExitError.
int run_keys(const Settings& settings, std::istream& in, std::ostream& out);

}  // namespace gw::gateway
