// `gateway keys host-secret`: the host keys as a Kubernetes Secret, so every
// replica behind one Service presents the same host identity
// (--host-keys-dir) and no private key is ever made by hand.
#pragma once

#include <ostream>

#include "gateway/options/options.hpp"

namespace gw::gateway {

// Prints a v1 Secret holding ssh_host_ed25519_key and ssh_host_rsa_key on
// out: a new pair, or with --from-state the keys an existing gateway
// generated into --state-dir (its clients then see no host-key change).
// The fingerprints and known_hosts lines go to info. Returns the exit code;
// a bad --secret-name or --namespace throws UsageError.
int print_host_secret(const Settings& settings, std::ostream& out, std::ostream& info);

}  // namespace gw::gateway
