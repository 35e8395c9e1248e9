#include "gateway/keys/host_secret.hpp"

#include <openssl/evp.h>

#include <string>
#include <vector>

#include "gateway/exit_codes.hpp"
#include "gateway/keys/host_keys.hpp"
#include "mapping/problem.hpp"

namespace gw::gateway {
namespace {

// A DNS-1123 subdomain, as Kubernetes requires of object names: lowercase
// letters, digits, '-' and '.', starting and ending alphanumeric.
bool is_object_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (const char c : name)
    if (!alnum(c) && c != '-' && c != '.') return false;
  return alnum(name.front()) && alnum(name.back());
}

void require_object_name(const std::string& option, const std::string& value) {
  if (!is_object_name(value))
    throw UsageError(option + " '" + mapping::printable(value) +
                     "' is not a Kubernetes name (lowercase letters, digits, '-' and '.')");
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

int print_host_secret(const Settings& settings, std::ostream& out, std::ostream& info) {
  const KeysRequest& r = settings.keys;
  require_object_name("--secret-name", r.secret_name);
  if (!r.namespace_name.empty()) require_object_name("--namespace", r.namespace_name);
  const std::vector<HostKey> keys =
      r.from_state ? load_host_keys(settings.state_dir + "/host_keys") : generate_host_keys();
  out << "# The sshd host keys of every sftp-gateway replica (--host-keys-dir).\n";
  for (const HostKey& k : keys) out << "# " << k.file << ": " << k.fingerprint << '\n';
  out << "apiVersion: v1\nkind: Secret\nmetadata:\n  name: " << r.secret_name << '\n';
  if (!r.namespace_name.empty()) out << "  namespace: " << r.namespace_name << '\n';
  out << "type: Opaque\ndata:\n";
  for (const HostKey& k : keys) out << "  " << k.file << ": " << base64(k.private_key) << '\n';
  for (const HostKey& k : keys) info << "host key " << k.file << ": " << k.fingerprint << '\n';
  info << "known_hosts lines (HOST: the Service's address, as clients dial it):\n";
  for (const HostKey& k : keys) info << "HOST " << k.public_line << '\n';
  return exit_code::ok;
}

}  // namespace gw::gateway
