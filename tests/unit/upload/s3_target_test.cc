#include "upload/s3_target.h"

#include <gtest/gtest.h>

namespace nodeproc {
namespace {

S3Target Target(std::string endpoint, std::string bucket, std::string prefix, bool path_style) {
  S3Target t;
  t.endpoint = std::move(endpoint);
  t.bucket = std::move(bucket);
  t.prefix = std::move(prefix);
  t.path_style = path_style;
  return t;
}

TEST(S3TargetTest, KeyMirrorsTheVolumeLayoutUnderThePrefix) {
  auto t = NormalizeS3Target(Target("http://127.0.0.1:7480", "snaps", "/fleet//prod/", true));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->prefix, "fleet/prod");
  EXPECT_EQ(ObjectKey(*t, "node-1/20261130T071900Z/process/process_20261130T072400Z.csv"),
            "fleet/prod/node-1/20261130T071900Z/process/process_20261130T072400Z.csv");
  auto bare = NormalizeS3Target(Target("http://127.0.0.1:7480", "snaps", "", true));
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(ObjectKey(*bare, "n/s/process/files_20261130T072400Z.csv"), "n/s/process/files_20261130T072400Z.csv");
}

TEST(S3TargetTest, PathStyleAndVirtualHostUrls) {
  auto path = NormalizeS3Target(Target("http://127.0.0.1:7480/", "snaps", "p", true));
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(ObjectUrl(*path, "p/k.csv"), "http://127.0.0.1:7480/snaps/p/k.csv");
  auto vhost = NormalizeS3Target(Target("https://minio.example:9000", "snaps", "", false));
  ASSERT_TRUE(vhost.ok());
  EXPECT_EQ(ObjectUrl(*vhost, "k.csv"), "https://snaps.minio.example:9000/k.csv");
}

TEST(S3TargetTest, DefaultsToTheRegionalAwsEndpoint) {
  S3Target in = Target("", "snaps", "", false);
  in.region = "eu-west-3";
  auto t = NormalizeS3Target(in);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->endpoint, "https://s3.eu-west-3.amazonaws.com");
  EXPECT_EQ(ObjectUrl(*t, "a.csv"), "https://snaps.s3.eu-west-3.amazonaws.com/a.csv");
  EXPECT_EQ(SigV4Provider(*t), "aws:amz:eu-west-3:s3");
  in.region = "";
  EXPECT_EQ(SigV4Provider(*NormalizeS3Target(in)), "aws:amz:us-east-1:s3");
}

TEST(S3TargetTest, RejectsWhatCouldEscapeTheKeyOrTheHost) {
  for (const char* prefix : {"a/../b", "a b", "x?y", "caf\xc3\xa9", "a/./b", "%2e%2e"}) {
    auto t = NormalizeS3Target(Target("http://h:1", "snaps", prefix, true));
    EXPECT_FALSE(t.ok()) << prefix;
    if (!t.ok()) EXPECT_NE(std::string(t.status().message()).find("--upload-prefix"), std::string::npos);
  }
  for (const char* endpoint : {"ftp://h", "http://", "http://h/path", "http://user@h", "h:9000", "http://h?x"}) {
    EXPECT_FALSE(NormalizeS3Target(Target(endpoint, "snaps", "", true)).ok()) << endpoint;
  }
  for (const std::string bucket : {std::string(), std::string("ab"), std::string("a/b"),
                                   std::string("bucket name"), std::string(64, 'a')}) {
    EXPECT_FALSE(NormalizeS3Target(Target("http://h:1", bucket, "", true)).ok()) << bucket;
  }
  S3Target bad_region = Target("http://h:1", "snaps", "", true);
  bad_region.region = "us east";
  EXPECT_FALSE(NormalizeS3Target(bad_region).ok());
  // A dotted bucket cannot be a TLS virtual host.
  EXPECT_FALSE(NormalizeS3Target(Target("https://s3.amazonaws.com", "my.snaps", "", false)).ok());
  EXPECT_TRUE(NormalizeS3Target(Target("https://s3.amazonaws.com", "my.snaps", "", true)).ok());
}

}  // namespace
}  // namespace nodeproc
