// --upload-* flags: defaults from the AWS_* environment, and one clear line for each mistake.
#include <stdlib.h>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "agent/config.h"
#include "agent/flags.h"
#include "agent/upload_wiring.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, upload_bucket);
ABSL_DECLARE_FLAG(std::string, upload_endpoint);
ABSL_DECLARE_FLAG(std::string, upload_region);
ABSL_DECLARE_FLAG(std::string, upload_prefix);
ABSL_DECLARE_FLAG(bool, upload_path_style);
ABSL_DECLARE_FLAG(std::string, upload_secret_access_key_file);
ABSL_DECLARE_FLAG(int, upload_spool_max_snapshots);
ABSL_DECLARE_FLAG(absl::Duration, upload_backoff_max);

namespace nodeproc {
namespace {

TEST(UploadConfigTest, FlagsAndAwsEnvironmentAndTheirChecks) {
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  ::setenv("AWS_REGION", "eu-west-3", 1);
  ::setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7480", 1);
  absl::SetFlag(&FLAGS_snapshot_dir, "/tmp");
  absl::SetFlag(&FLAGS_upload_bucket, "fleet");
  absl::SetFlag(&FLAGS_upload_prefix, "/prod/eu/");
  absl::SetFlag(&FLAGS_upload_path_style, true);
  RepeatedFlags repeated;
  auto c = ConfigFromFlags(repeated);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->upload_bucket, "fleet");
  EXPECT_EQ(c->upload_region, "eu-west-3");
  EXPECT_EQ(c->upload_endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(c->upload_prefix, "prod/eu");
  EXPECT_TRUE(c->upload_path_style);

  auto expect_error = [&](std::string_view needle) {
    auto bad = ConfigFromFlags(repeated);
    ASSERT_FALSE(bad.ok()) << needle;
    EXPECT_NE(std::string(bad.status().message()).find(needle), std::string::npos) << bad.status();
    EXPECT_EQ(std::string(bad.status().message()).find('\n'), std::string::npos);
  };
  absl::SetFlag(&FLAGS_upload_prefix, "a/../b");
  expect_error("--upload-prefix");
  absl::SetFlag(&FLAGS_upload_prefix, "");
  absl::SetFlag(&FLAGS_upload_endpoint, "s3.example.com");
  expect_error("--upload-endpoint=s3.example.com");
  absl::SetFlag(&FLAGS_upload_endpoint, "");
  absl::SetFlag(&FLAGS_upload_spool_max_snapshots, 0);
  expect_error("--upload-spool-max-snapshots");
  absl::SetFlag(&FLAGS_upload_spool_max_snapshots, 2016);
  absl::SetFlag(&FLAGS_upload_backoff_max, absl::Milliseconds(10));
  expect_error("--upload-backoff-max");
  absl::SetFlag(&FLAGS_upload_backoff_max, absl::Minutes(5));
  absl::SetFlag(&FLAGS_upload_secret_access_key_file, "/nonexistent/secret");
  expect_error("--upload-secret-access-key-file=/nonexistent/secret is not readable");
  absl::SetFlag(&FLAGS_upload_secret_access_key_file, "");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  expect_error("no upload credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  absl::SetFlag(&FLAGS_snapshot_dir, "");
  expect_error("--upload-bucket needs --snapshot-dir");

  absl::SetFlag(&FLAGS_upload_bucket, "");  // defaults again: no upload, no checks
  absl::SetFlag(&FLAGS_upload_path_style, false);
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_REGION");
  ::unsetenv("AWS_ENDPOINT_URL_S3");
  auto off = ConfigFromFlags(repeated);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_TRUE(off->upload_bucket.empty());
}

}  // namespace
}  // namespace nodeproc
