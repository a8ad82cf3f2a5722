// SHA-256 (OpenSSL libcrypto) for the commit hash chain, HMAC-SHA256 for
// read-model snapshots, and random bytes for their keys.
#ifndef CHRONOCONF_COMMON_SHA256_H_
#define CHRONOCONF_COMMON_SHA256_H_

#include <memory>
#include <string>
#include <string_view>

namespace chronoconf {

// The 32-byte digest of `data`, as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view data);

// A digest fed in pieces (a file too large to hold twice).
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  std::string Finish();  // the 32 raw bytes; call once

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// HMAC-SHA256 (RFC 2104) fed in pieces: the MAC of a snapshot file under
// the store's key, so that only a holder of the key can write one that loads.
class HmacSha256Stream {
 public:
  explicit HmacSha256Stream(std::string_view key);
  HmacSha256Stream(const HmacSha256Stream&) = delete;
  HmacSha256Stream& operator=(const HmacSha256Stream&) = delete;
  void Update(std::string_view data) { inner_.Update(data); }
  std::string Finish();  // the 32 raw bytes; call once

 private:
  Sha256Stream inner_;
  std::string outer_pad_;  // the key XOR 0x5c, one block
};

// `n` bytes from OpenSSL's CSPRNG; "" when it fails (no entropy).
std::string RandomBytes(size_t n);

// Lowercase hex of bytes, and back ("" on a malformed input).
std::string ToHex(std::string_view bytes);
std::string FromHex(std::string_view hex);

}  // namespace chronoconf

#endif  // CHRONOCONF_COMMON_SHA256_H_
