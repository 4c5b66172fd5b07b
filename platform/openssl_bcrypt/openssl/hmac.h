#pragma once
// openssl_bcrypt (Windows build only): one-shot HMAC, SHA-256 only, over Windows CNG.
#include <cstddef>

#include "openssl/evp.h"

// md on success, nullptr on failure (as OpenSSL).
unsigned char* HMAC(const EVP_MD* evp_md, const void* key, int key_len, const unsigned char* d,
                    size_t n, unsigned char* md, unsigned int* md_len);
