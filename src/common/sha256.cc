#include "common/sha256.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace chronoconf {
namespace {

// SHA-256 fetched from OpenSSL's provider once: EVP_sha256() makes every
// digest fetch it again, which cost as much as hashing a commit.
const EVP_MD* Sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md ? md : EVP_sha256();
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, Sha256(), nullptr);
  return ToHex(std::string_view(reinterpret_cast<const char*>(digest), len));
}

struct Sha256Stream::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256Stream::Sha256Stream() : ctx_(std::make_unique<Ctx>()) {
  EVP_DigestInit_ex(ctx_->md, Sha256(), nullptr);
}
Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(std::string_view data) {
  EVP_DigestUpdate(ctx_->md, data.data(), data.size());
}

std::string Sha256Stream::Finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, digest, &len);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

HmacSha256Stream::HmacSha256Stream(std::string_view key) {
  constexpr size_t kBlock = 64;  // SHA-256's block size
  std::string k(key.size() > kBlock ? FromHex(Sha256Hex(key)) : std::string(key));
  k.resize(kBlock, '\0');
  std::string inner_pad(kBlock, '\0');
  outer_pad_.resize(kBlock);
  for (size_t i = 0; i < kBlock; ++i) {
    inner_pad[i] = static_cast<char>(k[i] ^ 0x36);
    outer_pad_[i] = static_cast<char>(k[i] ^ 0x5c);
  }
  inner_.Update(inner_pad);
}

std::string HmacSha256Stream::Finish() {
  Sha256Stream outer;
  outer.Update(outer_pad_);
  outer.Update(inner_.Finish());
  return outer.Finish();
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return "";
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return {};
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

}  // namespace chronoconf
