#pragma once
// The server's TLS certificate and key (PEM files), reloaded when they change: cert-manager
// and Kubernetes Secret volumes replace the files (a new inode behind the `..data` symlink)
// while the agent runs. Current() is called for each new connection; at most once a second it
// stats both files and, when either changed, loads the pair into a fresh SSL_CTX. A pair that
// does not load (half-written, mismatched key) is logged once and the previous one is kept.
// TLS 1.2+, no renegotiation. OpenSSL only: no dependency on the HTTP library.
#include <openssl/ssl.h>
#include <sys/types.h>

#include <ctime>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace nodeproc {

class TlsCredentials {
 public:
  // Loads the pair once; InvalidArgument with OpenSSL's reason when it does not load.
  static absl::StatusOr<std::unique_ptr<TlsCredentials>> Load(std::string cert_file,
                                                              std::string key_file);

  // The context new connections use (SSL_new keeps its own reference to it).
  std::shared_ptr<SSL_CTX> Current();

  // Loads cert_file + key_file into a new server context (exposed for tests).
  static absl::StatusOr<std::shared_ptr<SSL_CTX>> NewContext(const std::string& cert_file,
                                                             const std::string& key_file);

 private:
  struct FileId {  // what changes when a file is replaced or rewritten
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    bool operator==(const FileId& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };
  struct PairId {
    FileId cert, key;
    bool operator==(const PairId& o) const { return cert == o.cert && key == o.key; }
  };
  static PairId Identify(const std::string& cert_file, const std::string& key_file);

  TlsCredentials(std::string cert_file, std::string key_file)
      : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}

  const std::string cert_file_;
  const std::string key_file_;
  absl::Mutex mu_;
  std::shared_ptr<SSL_CTX> current_ ABSL_GUARDED_BY(mu_);
  PairId loaded_ ABSL_GUARDED_BY(mu_);  // the files behind current_
  PairId failed_ ABSL_GUARDED_BY(mu_);  // the last pair that did not load (not retried)
  absl::Time next_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace nodeproc
