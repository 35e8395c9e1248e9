#include "gateway/keys/host_keys.hpp"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "fs/unique_fd.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/atomic_file.hpp"

namespace gw::gateway {
namespace {

struct KeyFree {
  void operator()(ssh_key k) const { ssh_key_free(k); }
};
using Key = std::unique_ptr<std::remove_pointer_t<ssh_key>, KeyFree>;

struct CharFree {
  void operator()(char* s) const { ssh_string_free_char(s); }
};

struct Spec {
  const char* file;
  enum ssh_keytypes_e type;
  int bits;
};

constexpr Spec kSpecs[] = {{"ssh_host_ed25519_key", SSH_KEYTYPE_ED25519, 0},
                           {"ssh_host_rsa_key", SSH_KEYTYPE_RSA, 4096}};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Written whole (replace_file_at): a crash never leaves half a key, and the
// key is 0600 from its first byte.
void generate(const Spec& spec, int folder, const std::string& path) {
  ssh_key raw = nullptr;
  if (ssh_pki_generate(spec.type, spec.bits, &raw) != SSH_OK)
    throw ExitError(exit_code::failure, std::string("cannot generate host key ") + spec.file);
  const Key key(raw);
  char* text = nullptr;  // the format ssh_pki_export_privkey_file writes
  if (ssh_pki_export_privkey_base64(key.get(), nullptr, nullptr, nullptr, &text) != SSH_OK)
    throw ExitError(exit_code::failure, "cannot export host key " + path);
  const std::unique_ptr<char, CharFree> hold(text);
  replace_file_at(folder, spec.file, text, 0600, path);
  spdlog::info("generated host key {}", path);
}

// errno is read before the message is built, which may change it.
[[noreturn]] void io_failure(const char* what, const std::string& object) {
  const int err = errno;
  throw ExitError(exit_code::failure, what + object + ": " + std::strerror(err));
}

// The host_keys folder, locked: gateways sharing a state folder may start
// together, and the one that waited loads the keys the other made.
fs::UniqueFd lock_folder(const std::string& dir) {
  fs::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) io_failure("cannot open ", dir);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) io_failure("cannot lock ", dir);
  }
  return fd;
}

// The served form of a key: the private key file's text, the public line,
// the fingerprint.
HostKey describe(const Spec& spec, ssh_key key, std::string private_text, const std::string& label) {
  HostKey h;
  h.file = spec.file;
  h.private_key = std::move(private_text);
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) throw ExitError(exit_code::failure, "bad host key " + label);
  h.public_line = std::string(ssh_key_type_to_char(ssh_key_type(key))) + " " + b64;
  ssh_string_free_char(b64);
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) == 0) {
    char* fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
    h.fingerprint = fp;
    ssh_string_free_char(fp);
    ssh_clean_pubkey_hash(&hash);
  }
  return h;
}

// `code`: the exit code when the file cannot be read or is no key of the
// expected type (a given folder is configuration: usage).
HostKey load(const Spec& spec, const std::string& path, int code = exit_code::failure) {
  ssh_key raw = nullptr;
  if (ssh_pki_import_privkey_file(path.c_str(), nullptr, nullptr, nullptr, &raw) != SSH_OK)
    throw ExitError(code, "cannot read host key " + path);
  const Key key(raw);
  if (ssh_key_type(key.get()) != spec.type)
    throw ExitError(code, path + " is a " + ssh_key_type_to_char(ssh_key_type(key.get())) + " key, not " +
                              ssh_key_type_to_char(spec.type));
  return describe(spec, key.get(), read_file(path), path);
}

}  // namespace

std::vector<HostKey> ensure_host_keys(const std::string& state_dir) {
  const std::string dir = state_dir + "/host_keys";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || ::chmod(state_dir.c_str(), 0700) != 0 || ::chmod(dir.c_str(), 0700) != 0)
    throw ExitError(exit_code::failure, "cannot create the state folder " + dir);
  const fs::UniqueFd folder = lock_folder(dir);
  std::vector<HostKey> keys;
  for (const Spec& spec : kSpecs) {
    const std::string path = dir + "/" + spec.file;
    if (::faccessat(folder.get(), spec.file, F_OK, 0) != 0) {
      if (errno != ENOENT) io_failure("cannot read host key ", path);
      generate(spec, folder.get(), path);
    }
    keys.push_back(load(spec, path));
  }
  return keys;
}

bool host_keys_missing(const std::string& state_dir) {
  for (const Spec& spec : kSpecs) {
    const std::string path = state_dir + "/host_keys/" + spec.file;
    if (::access(path.c_str(), F_OK) != 0) return true;
  }
  return false;
}

std::vector<HostKey> load_host_keys(const std::string& dir) {
  std::vector<HostKey> keys;
  for (const Spec& spec : kSpecs) {
    const std::string path = dir + "/" + spec.file;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      throw ExitError(exit_code::usage, "cannot read " + path + ": " + std::strerror(errno));
    keys.push_back(load(spec, path, exit_code::usage));
  }
  return keys;
}

std::vector<HostKey> generate_host_keys() {
  std::vector<HostKey> keys;
  for (const Spec& spec : kSpecs) {
    ssh_key raw = nullptr;
    if (ssh_pki_generate(spec.type, spec.bits, &raw) != SSH_OK)
      throw ExitError(exit_code::failure, std::string("cannot generate host key ") + spec.file);
    const Key key(raw);
    char* text = nullptr;
    if (ssh_pki_export_privkey_base64(key.get(), nullptr, nullptr, nullptr, &text) != SSH_OK)
      throw ExitError(exit_code::failure, std::string("cannot export host key ") + spec.file);
    const std::unique_ptr<char, CharFree> hold(text);
    keys.push_back(describe(spec, key.get(), text, spec.file));
  }
  return keys;
}

}  // namespace gw::gateway
