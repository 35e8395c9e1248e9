// One authorized key line, checked with libssh before it can reach sshd:
// only ssh-ed25519 and ssh-rsa of at least 3072 bits, the key alone (no
// options), a safe comment. Refusals say why in one line and never echo
// the refused text, which may be a pasted private key.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gw::gateway {

inline constexpr std::size_t kMaxKeyLineBytes = 8 * 1024;
inline constexpr unsigned kMinRsaBits = 3072;

struct AuthorizedKey {
  std::string type;         // "ssh-ed25519" or "ssh-rsa"
  unsigned bits = 0;        // 256 for ed25519, the modulus size for RSA
  std::string base64;       // the key blob, canonical (as libssh exports it)
  std::string fingerprint;  // "SHA256:...", as `ssh-keygen -l` prints it
  std::string comment;      // blanks collapsed to one space; may be empty

  // "type base64[ comment]", the line stored and served.
  std::string line() const;
};

// What one line of input holds.
struct KeyLine {
  enum class Kind { key, blank, refused };
  Kind kind = Kind::blank;  // blank: empty or a `#` comment line
  AuthorizedKey key;        // when kind == key
  std::string reason;       // when kind == refused: what is wrong, without the line's text
};

KeyLine check_key_line(std::string_view line);

// check_key_line for each line of text; line n is element n - 1.
std::vector<KeyLine> check_key_lines(std::string_view text);

// Every key in text (a pasted key, `ssh-add -L` output, a .pub file), in
// order; blank and `#` lines are skipped. All or nothing: the first refused
// line throws UsageError "<source> line <n>: <reason>".
std::vector<AuthorizedKey> parse_keys(std::string_view text, std::string_view source);

}  // namespace gw::gateway
