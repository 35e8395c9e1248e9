#include "gateway/sshd/config.hpp"

#include <regex>
#include <sstream>

namespace gw::gateway {

bool parse_openssh_version(const std::string& text, OpensshVersion* out) {
  static const std::regex re(R"((?:OpenSSH_)?(\d+)\.(\d+))");
  std::smatch m;
  if (!std::regex_search(text, m, re)) return false;
  out->major = std::stoi(m[1]);
  out->minor = std::stoi(m[2]);
  return true;
}

namespace {

// Crypto that ssh-audit scores without failures: no SHA-1, no NIST curves,
// no CBC, encrypt-then-MAC only. OpenSSH 9.9+ adds ML-KEM post-quantum kex.
std::string kex(const OpensshVersion& v) {
  std::string k;
  if (v.at_least(9, 9)) k += "mlkem768x25519-sha256,";
  k += "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,"
       "diffie-hellman-group18-sha512,diffie-hellman-group16-sha512";
  return k;
}

void crypto(std::ostream& o, const OpensshVersion& v) {
  o << "KexAlgorithms " << kex(v) << "\n"
    << "Ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr\n"
    << "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com\n"
    << "HostKeyAlgorithms ssh-ed25519,rsa-sha2-512,rsa-sha2-256\n"
    << "PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512,rsa-sha2-256\n"
    << "RequiredRSASize 3072\n";
}

void authentication(std::ostream& o, const std::string& view) {
  o << "AuthenticationMethods publickey\n"
    << "PubkeyAuthentication yes\n"
    << "PasswordAuthentication no\n"
    << "KbdInteractiveAuthentication no\n"
    << "HostbasedAuthentication no\n"
    << "GSSAPIAuthentication no\n"
    << "PermitEmptyPasswords no\n"
    << "UsePAM no\n"
    << "PermitRootLogin no\n"
    << "StrictModes yes\n"
    << "AuthorizedKeysFile " << view << "/etc/ssh/authorized_keys/%u\n"
    << "AuthorizedPrincipalsFile none\n"
    << "MaxAuthTries 3\n"
    << "LoginGraceTime 20\n";
}

void restrictions(std::ostream& o) {
  o << "DisableForwarding yes\n"
    << "AllowAgentForwarding no\n"
    << "AllowTcpForwarding no\n"
    << "AllowStreamLocalForwarding no\n"
    << "X11Forwarding no\n"
    << "PermitTunnel no\n"
    << "PermitTTY no\n"
    << "PermitUserRC no\n"
    << "PermitUserEnvironment no\n"
    << "GatewayPorts no\n";
}

void limits(std::ostream& o, const OpensshVersion& v) {
  o << "MaxStartups 10:30:60\n"
    << "PerSourceMaxStartups 4\n"
    << "MaxSessions 4\n"
    << "ClientAliveInterval 30\n"
    << "ClientAliveCountMax 4\n"
    << "TCPKeepAlive no\n"
    << "Compression no\n";
  if (v.at_least(9, 8)) o << "PerSourcePenalties yes\n";
}

}  // namespace

std::string render_sshd_config(const SshdConfigInput& in) {
  std::ostringstream o;
  o << "# Rendered by sftp-gateway; read-only. Change the gateway's settings instead.\n"
    << "Port " << in.port << "\n";
  for (const auto& a : in.listen) o << "ListenAddress " << a << "\n";
  for (const auto& k : in.host_keys) o << "HostKey " << in.view << "/etc/ssh/" << k << "\n";
  crypto(o, in.version);
  authentication(o, in.view);
  restrictions(o);
  limits(o, in.version);
  o << "PidFile none\n"
    << "DebianBanner no\n"
    << "PrintMotd no\n"
    << "LogLevel VERBOSE\n"
    << "Subsystem sftp internal-sftp\n"
    << "ChrootDirectory " << in.view << "/data/%u-chroot\n"
    // The view applies each mapping's umask (umask=, default 0022) to what
    // is created, so sftp-server passes the client's modes on unmasked;
    // -d starts every session in the user's home inside the chroot.
    << "ForceCommand internal-sftp -d /%u -u 0000\n";
  return o.str();
}

}  // namespace gw::gateway
