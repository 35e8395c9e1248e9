#include "gateway/keys/authorized_key.hpp"

#include <libssh/libssh.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "gateway/exit_codes.hpp"
#include "mapping/problem.hpp"

namespace gw::gateway {
namespace {

struct KeyFree {
  void operator()(ssh_key k) const { ssh_key_free(k); }
};
using Key = std::unique_ptr<std::remove_pointer_t<ssh_key>, KeyFree>;
using Bytes = std::vector<unsigned char>;

constexpr std::string_view kBlanks = " \t";
constexpr std::string_view kAccepted = " (accepted: ssh-ed25519, or ssh-rsa of at least 3072 bits)";

KeyLine refused(std::string reason) {
  KeyLine line;
  line.kind = KeyLine::Kind::refused;
  line.reason = std::move(reason);
  return line;
}

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kBlanks) - first + 1);
}

std::vector<std::string_view> split_blanks(std::string_view s) {
  std::vector<std::string_view> tokens;
  for (std::size_t i = s.find_first_not_of(kBlanks); i != std::string_view::npos;
       i = s.find_first_not_of(kBlanks, i)) {
    const std::size_t end = std::min(s.find_first_of(kBlanks, i), s.size());
    tokens.push_back(s.substr(i, end - i));
    i = end;
  }
  return tokens;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict base64 (RFC 4648, padded, nothing else): what OpenSSH writes.
// Decoded here rather than by libssh so the blob can be inspected (type,
// RSA modulus) before libssh sees it.
std::optional<Bytes> decode_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  Bytes out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t group = 0;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    int value = 0;
    if (text[i] == '=') {
      if (i + 2 < text.size()) return std::nullopt;  // only the last two may be padding
      ++padding;
    } else {
      value = base64_value(text[i]);
      if (value < 0 || padding > 0) return std::nullopt;
    }
    group = (group << 6) | static_cast<std::uint32_t>(value);
    if (i % 4 == 3) {
      for (int shift : {16, 8, 0}) out.push_back(static_cast<unsigned char>((group >> shift) & 0xFF));
      group = 0;
    }
  }
  out.resize(out.size() - padding);
  return out;
}

// One SSH wire string (RFC 4251: uint32 length, then the bytes) at pos.
std::optional<Bytes> read_string(const Bytes& blob, std::size_t& pos) {
  if (blob.size() - pos < 4) return std::nullopt;
  std::size_t length = 0;
  for (int i = 0; i < 4; ++i) length = (length << 8) | blob[pos++];
  if (blob.size() - pos < length) return std::nullopt;
  Bytes out(blob.begin() + static_cast<std::ptrdiff_t>(pos), blob.begin() + static_cast<std::ptrdiff_t>(pos + length));
  pos += length;
  return out;
}

std::string blob_type(const Bytes& blob) {
  std::size_t pos = 0;
  const std::optional<Bytes> type = read_string(blob, pos);
  return type ? std::string(type->begin(), type->end()) : std::string();
}

// libssh 0.10 has no public ssh_key_size (0.11 has), so the modulus size is
// read from the blob on both: string "ssh-rsa", mpint e, mpint n.
std::optional<unsigned> rsa_bits(const Bytes& blob) {
  std::size_t pos = 0;
  if (!read_string(blob, pos) || !read_string(blob, pos)) return std::nullopt;
  const std::optional<Bytes> n = read_string(blob, pos);
  if (!n) return std::nullopt;
  std::size_t first = 0;
  while (first < n->size() && (*n)[first] == 0) ++first;  // an mpint's sign byte
  if (first == n->size()) return 0U;
  const auto top = static_cast<unsigned>(std::bit_width(static_cast<unsigned>((*n)[first])));
  return static_cast<unsigned>((n->size() - first - 1) * 8) + top;
}

std::optional<std::string> sha256_fingerprint(ssh_key key) {
  unsigned char* hash = nullptr;
  std::size_t length = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) != 0) return std::nullopt;
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, length);
  ssh_clean_pubkey_hash(&hash);
  if (text == nullptr) return std::nullopt;
  std::string fingerprint(text);
  ssh_string_free_char(text);
  return fingerprint;
}

// Key types OpenSSH knows that a libssh build may not (0.11 dropped DSA),
// so the refusal names them the same on every build.
constexpr std::array<std::string_view, 4> kOtherOpenSshTypes{
    "ssh-dss", "ssh-dss-cert-v01@openssh.com", "ssh-xmss@openssh.com", "ssh-xmss-cert-v01@openssh.com"};

bool is_type_name(std::string_view token) {
  const std::string name(token);
  return ssh_key_type_from_name(name.c_str()) != SSH_KEYTYPE_UNKNOWN || token.starts_with("rsa-sha2-") ||
         std::find(kOtherOpenSshTypes.begin(), kOtherOpenSshTypes.end(), token) != kOtherOpenSshTypes.end();
}

// Why a first word other than the two accepted type names is refused. Only
// names libssh knows are echoed: anything else may be part of a secret.
std::string type_refusal(const std::vector<std::string_view>& tokens) {
  const std::string_view type = tokens.front();
  const std::string name = mapping::printable(type);
  if (type.starts_with("rsa-sha2-")) return "'" + name + "' names a signature algorithm; an RSA key's type is ssh-rsa";
  if (type.find("-cert-v0") != std::string_view::npos && is_type_name(type))
    return "certificates (" + name + ") are not accepted; add the plain public key";
  if (is_type_name(type)) return name + " keys are not accepted" + std::string(kAccepted);
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    if (is_type_name(tokens[i]))
      return "options before the key type (command=, from=, restrict, ...) are not accepted; give the key "
             "alone (the gateway's sshd_config sets what every key may do)";
  }
  return "not an OpenSSH public key line (expected 'ssh-ed25519 AAAA... comment')";
}

bool is_private_key(std::string_view line) {
  return (line.starts_with("-----BEGIN") && line.find("PRIVATE KEY") != std::string_view::npos) ||
         line.starts_with("PuTTY-User-Key-File-");
}

// Comments are shown by `keys list` and in logs, so nothing in them may end
// a line or reorder it: no control bytes, invalid UTF-8, line separators or
// bidi controls. mapping::printable escapes exactly those, and backslashes,
// which are harmless and checked around.
bool safe_comment(std::string_view comment) {
  for (std::size_t start = 0;;) {
    const std::size_t end = comment.find('\\', start);
    const std::string_view piece = comment.substr(start, end == std::string_view::npos ? end : end - start);
    if (mapping::printable(piece) != piece) return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

// The key data of an accepted type: decoded, size-checked, read by libssh.
KeyLine check_key_data(std::string_view type, std::string_view base64) {
  const std::optional<Bytes> blob = decode_base64(base64);
  if (!blob) return refused("the key data is not valid base64 (damaged or truncated paste?)");
  const std::string name(type);
  if (blob_type(*blob) != name) return refused("the key data is not an " + name + " key (damaged or mislabelled)");
  unsigned bits = 256;
  if (name == "ssh-rsa") {
    const std::optional<unsigned> rsa = rsa_bits(*blob);
    if (!rsa) return refused("the RSA key data is damaged");
    if (*rsa < kMinRsaBits)
      return refused("RSA key of " + std::to_string(*rsa) + " bits; at least " + std::to_string(kMinRsaBits) +
                     " are required (make one with ssh-keygen -t ed25519, or -t rsa -b 4096)");
    bits = *rsa;
  }
  const std::string text(base64);
  ssh_key raw = nullptr;
  if (ssh_pki_import_pubkey_base64(text.c_str(), ssh_key_type_from_name(name.c_str()), &raw) != SSH_OK)
    return refused("libssh cannot read the key data (damaged key)");
  const Key key(raw);
  // libssh reads what the type needs and ignores the rest; exporting again
  // and comparing refuses trailing or non-canonical bytes.
  char* exported = nullptr;
  if (ssh_pki_export_pubkey_base64(key.get(), &exported) != SSH_OK) return refused("libssh cannot export the key");
  const std::string canonical(exported);
  ssh_string_free_char(exported);
  if (canonical != text) return refused("the key data has extra or malformed bytes (damaged key)");
  std::optional<std::string> fingerprint = sha256_fingerprint(key.get());
  if (!fingerprint) return refused("libssh cannot compute the key's fingerprint");
  KeyLine line;
  line.kind = KeyLine::Kind::key;
  line.key = {name, bits, canonical, std::move(*fingerprint), {}};
  return line;
}

}  // namespace

std::string AuthorizedKey::line() const { return type + " " + base64 + (comment.empty() ? "" : " " + comment); }

KeyLine check_key_line(std::string_view line) {
  if (line.size() > kMaxKeyLineBytes) return refused("the line is longer than 8 KiB; no accepted key is that long");
  if (line.ends_with('\r')) line.remove_suffix(1);  // a file saved with CRLF line ends
  line = trim(line);
  if (line.empty() || line.front() == '#') return {};
  if (is_private_key(line))
    return refused("this is a PRIVATE key: keep it secret; give the public key (the .pub file, or `ssh-add -L`)");
  if (line.starts_with("-----BEGIN") || line.starts_with("---- BEGIN"))
    return refused("a PEM or RFC 4716 block, not an OpenSSH public key line; convert it with `ssh-keygen -i -f FILE`");
  const std::vector<std::string_view> tokens = split_blanks(line);
  const std::string_view type = tokens.front();
  if (type != "ssh-ed25519" && type != "ssh-rsa") return refused(type_refusal(tokens));
  if (tokens.size() < 2) return refused("the key data is missing after " + std::string(type));
  KeyLine checked = check_key_data(type, tokens[1]);
  if (checked.kind != KeyLine::Kind::key) return checked;
  std::string comment;
  for (std::size_t i = 2; i < tokens.size(); ++i) comment += (i > 2 ? " " : "") + std::string(tokens[i]);
  if (!safe_comment(comment)) return refused("the comment holds a control character or invalid UTF-8");
  checked.key.comment = std::move(comment);
  return checked;
}

std::vector<KeyLine> check_key_lines(std::string_view text) {
  std::vector<KeyLine> lines;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    lines.push_back(check_key_line(text.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}

std::vector<AuthorizedKey> parse_keys(std::string_view text, std::string_view source) {
  std::vector<AuthorizedKey> keys;
  const std::vector<KeyLine> lines = check_key_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].kind == KeyLine::Kind::refused)
      throw UsageError(mapping::printable(source) + " line " + std::to_string(i + 1) + ": " + lines[i].reason);
    if (lines[i].kind == KeyLine::Kind::key) keys.push_back(lines[i].key);
  }
  return keys;
}

}  // namespace gw::gateway
