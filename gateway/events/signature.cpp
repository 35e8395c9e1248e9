#include "gateway/events/signature.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <stdexcept>

namespace gw::gateway {
namespace {

std::string hex(const unsigned char* bytes, unsigned int n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

}  // namespace

// The one-shot HMAC() is not deprecated in OpenSSL 3 (the HMAC_CTX family
// is), so it builds warning-free on 3.0 (Debian 12) and 3.5 (Debian 13).
std::string hmac_sha256_hex(std::string_view secret, std::string_view body) {
  if (secret.size() > INT_MAX) throw std::length_error("HMAC key too long");
  // A key pointer must not be null, even for an empty key.
  static const unsigned char kNoKey = 0;
  const void* key = secret.empty() ? static_cast<const void*>(&kNoKey) : secret.data();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key, static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
           body.size(), mac, &len) == nullptr)
    throw std::runtime_error("HMAC-SHA256 failed (libcrypto)");
  return hex(mac, len);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed (libcrypto)");
  return hex(digest, len);
}

}  // namespace gw::gateway
