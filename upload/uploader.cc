#include "upload/uploader.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/absl_compat.h"
#include "core/log.h"

namespace nodeproc {
namespace {

constexpr absl::Duration kLogInterval = absl::Minutes(1);

struct Digests {
  std::string md5;         // raw 16 bytes
  std::string sha256_hex;  // lowercase hex
};

// MD5 and SHA-256 of the first `size` bytes of `fd`, in one pass.
absl::StatusOr<Digests> Digest(int fd, uint64_t size) {
  EVP_MD_CTX* md5 = EVP_MD_CTX_new();
  EVP_MD_CTX* sha = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md5, EVP_md5(), nullptr);
  EVP_DigestInit_ex(sha, EVP_sha256(), nullptr);
  std::string buf(64 * 1024, '\0');
  uint64_t offset = 0;
  int err = 0;
  while (offset < size) {
    const ssize_t n = ::pread(fd, buf.data(), std::min<uint64_t>(buf.size(), size - offset), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    EVP_DigestUpdate(md5, buf.data(), static_cast<size_t>(n));
    EVP_DigestUpdate(sha, buf.data(), static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  unsigned char m[EVP_MAX_MD_SIZE], s[EVP_MAX_MD_SIZE];
  unsigned int mlen = 0, slen = 0;
  EVP_DigestFinal_ex(md5, m, &mlen);
  EVP_DigestFinal_ex(sha, s, &slen);
  EVP_MD_CTX_free(md5);
  EVP_MD_CTX_free(sha);
  if (err != 0) return absl::InternalError(strerror(err));
  Digests d;
  d.md5.assign(reinterpret_cast<char*>(m), mlen);
  d.sha256_hex = absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(s), slen));
  return d;
}

std::string Destination(const S3Target& t) {
  return absl::StrCat(t.endpoint, "/", t.bucket, t.prefix.empty() ? "" : "/", t.prefix);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Uploader>> Uploader::Create(UploaderOptions options) {
  options.spool.destination = Destination(options.s3.target);
  if (const char* bps = std::getenv("NODEPROC_TEST_UPLOAD_MAX_SEND_BPS")) {
    int64_t v = 0;
    if (absl::SimpleAtoi(bps, &v) && v > 0) options.s3.max_send_bytes_per_second = v;
  }
  std::unique_ptr<Uploader> u(new Uploader(std::move(options)));
  if (absl::Status s = u->spool_.Load(); !s.ok()) return s;
  return u;
}

Uploader::Uploader(UploaderOptions options)
    : options_(std::move(options)),
      spool_(options_.spool),
      client_(options_.s3),
      backoff_(options_.backoff_initial, options_.backoff_max, [] {
        thread_local absl::BitGen gen;
        return absl::Uniform(gen, 0.0, 1.0);
      }) {}

Uploader::~Uploader() { Stop(); }

void Uploader::Start() {
  const SpoolStats s = spool_.Stats();
  LogInfo("snapshot upload started",
          {{"destination", options_.spool.destination}, {"pending_files", s.pending_files},
           {"pending_bytes", s.pending_bytes}});
  thread_ = std::thread([this] { Loop(); });
}

void Uploader::Stop() {
  cancel_.store(true);
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Uploader::Enqueue(const std::string& path) {
  if (!spool_.Add(path)) return;
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

UploadStats Uploader::Stats() const {
  UploadStats s;
  s.spool = spool_.Stats();
  absl::MutexLock lock(&mu_);
  s.requests = requests_;
  s.bytes_uploaded = bytes_uploaded_;
  s.last_success = last_success_;
  return s;
}

void Uploader::LogRateLimited(const std::string& cause, std::string_view message, const std::string& key,
                              const std::string& detail) {
  uint64_t suppressed = 0;
  {
    absl::MutexLock lock(&mu_);
    LogState& st = log_state_[cause];
    const absl::Time now = absl::Now();
    if (now - st.last < kLogInterval) {
      ++st.suppressed;
      return;
    }
    st.last = now;
    suppressed = st.suppressed;
    st.suppressed = 0;
  }
  LogWarning(message, {{"cause", cause}, {"key", key}, {"error", detail},
                       {"suppressed_since_last", suppressed}});
}

UploadOutcome Uploader::UploadOne(const SpoolEntry& entry) {
  const std::string key = ObjectKey(options_.s3.target, entry.relative);
  const int fd = ::open(entry.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    LogWarning("pending snapshot file vanished before upload", {{"path", entry.path}});
    spool_.Forget(entry.path);
    return UploadOutcome::kLocalError;
  }
  auto local_error = [&](std::string detail) {
    LogRateLimited("local_error", "cannot read snapshot file for upload", key, detail);
    return UploadOutcome::kLocalError;
  };
  if (fd < 0) return local_error(absl::StrCat(entry.path, ": ", strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    spool_.Forget(entry.path);
    return local_error(absl::StrCat(entry.path, ": not a regular file"));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  auto digests = Digest(fd, size);
  if (!digests.ok()) {
    ::close(fd);
    return local_error(absl::StrCat(entry.path, ": ", digests.status().message()));
  }
  PutResult r = client_.Put(key, fd, size, digests->md5, digests->sha256_hex, cancel_);
  ::close(fd);
  if (r.outcome == UploadOutcome::kCancelled) {
    LogWarning("upload interrupted by shutdown; the file stays pending and is uploaded after restart",
               {{"key", key}});
    return r.outcome;
  }
  bool recovered = false;
  {
    absl::MutexLock lock(&mu_);
    ++requests_[std::string(OutcomeName(r.outcome))];
    if (r.outcome == UploadOutcome::kSuccess) {
      bytes_uploaded_ += size;
      last_success_ = absl::Now();
      recovered = failing_;
      failing_ = false;
    } else {
      failing_ = true;
    }
  }
  if (r.outcome != UploadOutcome::kSuccess) {
    const std::string cause = absl::StrCat(ToAbsl(OutcomeName(r.outcome)), r.s3_code.empty() ? "" : ":", r.s3_code);
    LogRateLimited(cause, "snapshot upload failed, will retry", key, r.message);
    return r.outcome;
  }
  if (r.etag_mismatch) {
    LogRateLimited("etag_mismatch", "uploaded, but the ETag is not the file's MD5 (proxy or SSE-KMS?)", key,
                   absl::StrCat("etag=", r.etag, " md5=", absl::BytesToHexString(digests->md5)));
  }
  if (recovered) LogInfo("snapshot upload recovered", {{"key", key}});
  LogInfo("snapshot uploaded", {{"key", key}, {"bytes", size},
                                {"md5", absl::BytesToHexString(digests->md5)}});
  if (absl::Status s = spool_.MarkUploaded(entry); !s.ok()) {
    LogRateLimited("state_write", "cannot record the upload in the state file (it may be uploaded again after a restart)",
                   key, std::string(s.message()));
  }
  return r.outcome;
}

void Uploader::Loop() {
  absl::Time next_attempt = absl::InfinitePast();
  auto stop_or_wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || wake_; };
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      wake_ = false;
    }
    std::optional<SpoolEntry> front = spool_.Front();
    if (!front) {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&stop_or_wake));
      continue;
    }
    if (absl::Now() < next_attempt) {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithDeadline(absl::Condition(&stop_), next_attempt);
      continue;
    }
    const UploadOutcome outcome = UploadOne(*front);
    if (outcome == UploadOutcome::kCancelled) return;
    if (outcome == UploadOutcome::kSuccess) {
      backoff_.Reset();
      next_attempt = absl::InfinitePast();
    } else if (spool_.Front() && spool_.Front()->path == front->path) {
      next_attempt = absl::Now() + backoff_.Next();  // the same file again, later
    }
  }
}

}  // namespace nodeproc
