// SHA-256 and HMAC-SHA-256 over Windows CNG, behind the OpenSSL names of openssl/evp.h and
// openssl/hmac.h.
#include <windows.h>
#include <bcrypt.h>

#include "openssl/evp.h"
#include "openssl/hmac.h"

struct evp_md_st {
  int id;
};

namespace {

const evp_md_st kSha256{256};

// Hashes `data` (HMAC when `key` is given) into md; returns the digest length, 0 on failure.
unsigned int Sha256(const void* key, size_t key_len, const void* data, size_t n, unsigned char* md) {
  BCRYPT_ALG_HANDLE alg = nullptr;
  const ULONG flags = key != nullptr ? BCRYPT_ALG_HANDLE_HMAC_FLAG : 0;
  if (!BCRYPT_SUCCESS(BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, nullptr, flags))) return 0;
  BCRYPT_HASH_HANDLE hash = nullptr;
  unsigned int result = 0;
  if (BCRYPT_SUCCESS(BCryptCreateHash(alg, &hash, nullptr, 0,
                                      static_cast<PUCHAR>(const_cast<void*>(key)),
                                      static_cast<ULONG>(key != nullptr ? key_len : 0), 0))) {
    bool ok = true;
    const auto* p = static_cast<const unsigned char*>(data);
    while (ok && n > 0) {  // BCryptHashData takes a ULONG length
      const ULONG chunk = n > 0x40000000 ? 0x40000000 : static_cast<ULONG>(n);
      ok = BCRYPT_SUCCESS(BCryptHashData(hash, const_cast<PUCHAR>(p), chunk, 0));
      p += chunk;
      n -= chunk;
    }
    if (ok && BCRYPT_SUCCESS(BCryptFinishHash(hash, md, 32, 0))) result = 32;
    BCryptDestroyHash(hash);
  }
  BCryptCloseAlgorithmProvider(alg, 0);
  return result;
}

}  // namespace

const EVP_MD* EVP_sha256() { return &kSha256; }

int EVP_Digest(const void* data, size_t count, unsigned char* md, unsigned int* size,
               const EVP_MD* type, ENGINE*) {
  if (type != &kSha256) return 0;
  const unsigned int len = Sha256(nullptr, 0, data, count, md);
  if (size != nullptr) *size = len;
  return len != 0;
}

unsigned char* HMAC(const EVP_MD* evp_md, const void* key, int key_len, const unsigned char* d,
                    size_t n, unsigned char* md, unsigned int* md_len) {
  if (evp_md != &kSha256 || key_len < 0) return nullptr;
  static const unsigned char kEmpty = 0;
  const unsigned int len = Sha256(key != nullptr ? key : &kEmpty, static_cast<size_t>(key_len), d, n, md);
  if (md_len != nullptr) *md_len = len;
  return len != 0 ? md : nullptr;
}
