// The digests a webhook delivery needs (OpenSSL's libcrypto): the body's
// HMAC-SHA256 under the shared secret, which the receiver recomputes to know
// the event came from this gateway unchanged, and a URL's SHA-256, which
// names its sink without putting the URL (and any token in it) in file names
// and metric labels.
#pragma once

#include <string>
#include <string_view>

namespace gw::gateway {

// HMAC-SHA256(key = secret, message = body) as 64 lowercase hex digits.
std::string hmac_sha256_hex(std::string_view secret, std::string_view body);

// SHA-256 of `data` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace gw::gateway
