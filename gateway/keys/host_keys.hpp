// The sshd host keys: generated with libssh on first start into the state
// folder (never inside a user's reach), never regenerated, served read-only
// in the view's etc/ssh; or given in a read-only folder (--host-keys-dir).
#pragma once

#include <string>
#include <vector>

namespace gw::gateway {

struct HostKey {
  std::string file;         // "ssh_host_ed25519_key"
  std::string private_key;  // the key file's content
  std::string public_line;  // "ssh-ed25519 AAAA..."
  std::string fingerprint;  // "SHA256:..."
};

// Loads <state_dir>/host_keys/{ssh_host_ed25519_key,ssh_host_rsa_key},
// generating what is missing (ed25519, RSA 4096). Throws ExitError on failure.
std::vector<HostKey> ensure_host_keys(const std::string& state_dir);

// Whether ensure_host_keys would generate a key (one is missing, or the
// folder cannot be looked at): serve judges the backing folders before that.
bool host_keys_missing(const std::string& state_dir);

// --host-keys-dir: the same two files in a folder the gateway only reads (a
// Kubernetes Secret volume shared by every replica), both required, never
// generated. ExitError(usage) names a missing or bad one.
std::vector<HostKey> load_host_keys(const std::string& dir);

// A new pair, in memory only (`gateway keys host-secret`).
std::vector<HostKey> generate_host_keys();

}  // namespace gw::gateway
