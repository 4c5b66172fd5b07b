#include "exporters/tls_credentials.h"

#include <openssl/err.h>
#include <sys/stat.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace nodeproc {
namespace {

constexpr absl::Duration kCheckEvery = absl::Seconds(1);

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

}  // namespace

absl::StatusOr<std::shared_ptr<SSL_CTX>> TlsCredentials::NewContext(const std::string& cert_file,
                                                                    const std::string& key_file) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (ctx == nullptr) return absl::InternalError("SSL_CTX_new: " + OpenSslErrors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                     SSL_OP_NO_COMPRESSION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS certificate \"", cert_file, "\": ", OpenSslErrors()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS key \"", key_file, "\": ", OpenSslErrors()));
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("TLS key \"", key_file,
                                                   "\" does not match the certificate \"",
                                                   cert_file, "\": ", OpenSslErrors()));
  }
  return ctx;
}

TlsCredentials::PairId TlsCredentials::Identify(const std::string& cert_file,
                                                const std::string& key_file) {
  auto id = [](const std::string& path) {
    FileId f;
    struct stat st;
    if (stat(path.c_str(), &st) == 0) {  // follows the Secret volume's symlinks
      f.dev = st.st_dev;
      f.ino = st.st_ino;
      f.size = st.st_size;
      f.mtime = st.st_mtim;
    }
    return f;
  };
  return PairId{id(cert_file), id(key_file)};
}

absl::StatusOr<std::unique_ptr<TlsCredentials>> TlsCredentials::Load(std::string cert_file,
                                                                     std::string key_file) {
  const PairId id = Identify(cert_file, key_file);
  absl::StatusOr<std::shared_ptr<SSL_CTX>> ctx = NewContext(cert_file, key_file);
  if (!ctx.ok()) return ctx.status();
  std::unique_ptr<TlsCredentials> creds(
      new TlsCredentials(std::move(cert_file), std::move(key_file)));
  absl::MutexLock lock(&creds->mu_);
  creds->current_ = *std::move(ctx);
  creds->loaded_ = id;
  creds->failed_ = id;
  creds->next_check_ = absl::Now() + kCheckEvery;
  return creds;
}

std::shared_ptr<SSL_CTX> TlsCredentials::Current() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (now < next_check_) return current_;
  next_check_ = now + kCheckEvery;
  const PairId id = Identify(cert_file_, key_file_);
  if (id == loaded_ || id == failed_) return current_;
  absl::StatusOr<std::shared_ptr<SSL_CTX>> ctx = NewContext(cert_file_, key_file_);
  if (!ctx.ok()) {
    failed_ = id;
    LogWarning("TLS certificate files changed but do not load; keeping the previous pair",
               {{"error", ctx.status().message()}});
    return current_;
  }
  current_ = *std::move(ctx);
  loaded_ = id;
  failed_ = id;
  LogInfo("TLS certificate reloaded", {{"cert", cert_file_}, {"key", key_file_}});
  return current_;
}

}  // namespace nodeproc
