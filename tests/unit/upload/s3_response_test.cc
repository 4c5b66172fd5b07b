#include <gtest/gtest.h>

#include <cstdlib>

#include "upload/s3_client.h"

namespace nodeproc {
namespace {

std::string ErrorXml(const char* code, const char* message = "") {
  return std::string("<?xml version=\"1.0\"?><Error><Code>") + code + "</Code><Message>" + message +
         "</Message></Error>";
}

TEST(S3ResponseTest, EachCauseHasItsOwnOutcomeAndMessage) {
  struct Case {
    long http;
    std::string body;
    UploadOutcome outcome;
    const char* in_message;
  } cases[] = {
      {200, "", UploadOutcome::kSuccess, "uploaded"},
      {403, ErrorXml("InvalidAccessKeyId"), UploadOutcome::kAuthError, "credentials refused"},
      {403, ErrorXml("SignatureDoesNotMatch"), UploadOutcome::kAuthError, "credentials refused"},
      {403, ErrorXml("AccessDenied"), UploadOutcome::kAuthError, "access denied"},
      {403, "", UploadOutcome::kAuthError, "access denied"},
      {400, ErrorXml("AuthorizationHeaderMalformed"), UploadOutcome::kAuthError, "--upload-region"},
      {404, ErrorXml("NoSuchBucket"), UploadOutcome::kNoBucket, "bucket 'snaps' does not exist"},
      {400, ErrorXml("BadDigest"), UploadOutcome::kIntegrityError, "checksum mismatch"},
      {400, ErrorXml("XAmzContentSHA256Mismatch"), UploadOutcome::kIntegrityError, "checksum mismatch"},
      {400, ErrorXml("InvalidArgument"), UploadOutcome::kClientError, "refused"},
      {301, ErrorXml("PermanentRedirect"), UploadOutcome::kClientError, "--upload-region"},
      {500, ErrorXml("InternalError"), UploadOutcome::kServerError, "failed"},
      {503, ErrorXml("SlowDown"), UploadOutcome::kServerError, "throttling"},
      {502, "<html>bad gateway</html>", UploadOutcome::kServerError, "HTTP 502"},
  };
  for (const Case& c : cases) {
    PutResult r = ClassifyS3Response(c.http, c.body, "snaps");
    EXPECT_EQ(r.outcome, c.outcome) << c.http << " " << c.body;
    EXPECT_NE(r.message.find(c.in_message), std::string::npos) << r.message;
  }
  EXPECT_EQ(OutcomeName(UploadOutcome::kNoBucket), "no_bucket");
}

TEST(S3ResponseTest, HostileErrorBodiesCannotBreakTheLogLine) {
  const std::string body = "<Error><Code>Bad\"Code\n=x</Code><Message>" + std::string(5000, 'm') +
                           "\xff\xfe</Message></Error>";
  PutResult r = ClassifyS3Response(400, body, "snaps");
  EXPECT_EQ(r.s3_code, "Bad?Code??x");
  EXPECT_LT(r.message.size(), 400u);
  for (char c : r.message) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << r.message;
}

TEST(S3ResponseTest, CredentialsFromFilesWinAndAreReReadEachTime) {
  ::setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
  ::unsetenv("AWS_SESSION_TOKEN");
  S3ClientOptions o;
  auto env = LoadS3Credentials(o);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->access_key_id, "ENVKEY");
  EXPECT_EQ(env->session_token, "");
  char path[] = "/tmp/nodeproc-secret-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "filesecret\n", 11), 11);
  ::close(fd);
  o.secret_access_key_file = path;
  EXPECT_EQ(LoadS3Credentials(o)->secret_access_key, "filesecret");
  FILE* f = std::fopen(path, "w");
  std::fputs("rotated", f);
  std::fclose(f);
  EXPECT_EQ(LoadS3Credentials(o)->secret_access_key, "rotated");
  ::unlink(path);
  auto gone = LoadS3Credentials(o);
  EXPECT_FALSE(gone.ok());
  ::unsetenv("AWS_ACCESS_KEY_ID");
  o.secret_access_key_file.clear();
  auto none = LoadS3Credentials(o);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(std::string(none.status().message()).find("AWS_ACCESS_KEY_ID"), std::string::npos);
  ::setenv("AWS_ACCESS_KEY_ID", "BAD KEY", 1);
  EXPECT_FALSE(LoadS3Credentials(o).ok());
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
}

}  // namespace
}  // namespace nodeproc
