#pragma once
// openssl_bcrypt (Windows build only): the OpenSSL digest subset cmdline_privacy uses,
// implemented with Windows CNG (bcrypt). Only SHA-256 exists.
#include <cstddef>

#define EVP_MAX_MD_SIZE 64

struct evp_md_st;
typedef struct evp_md_st EVP_MD;
typedef struct engine_st ENGINE;

const EVP_MD* EVP_sha256();
// 1 on success, 0 on failure (as OpenSSL).
int EVP_Digest(const void* data, size_t count, unsigned char* md, unsigned int* size,
               const EVP_MD* type, ENGINE* impl);
