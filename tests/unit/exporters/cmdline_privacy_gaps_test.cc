// Secrets the scrubber missed in tests/integration/security_scrub_test.py (regressions), and
// look-alikes it must leave alone.
#include <string>

#include "exporters/cmdline_privacy.h"
#include "gtest/gtest.h"

namespace nodeproc {
namespace {

std::string Scrub(const std::string& s) { return CmdlinePrivacy::ScrubKnownSecrets(s); }

TEST(CmdlinePrivacyGapsTest, AwsAccessKeyIds) {
  EXPECT_EQ(Scrub("aws-tool AKIAIOSFODNN7EXAMPLE list"), "aws-tool ******** list");
  EXPECT_EQ(Scrub("x --key=ASIAIOSFODNN7EXAMPLE"), "x --key=********");
  // Not 20 characters, or embedded in a longer word: left alone.
  EXPECT_EQ(Scrub("x AKIAIOSFODNN7EXAMPL"), "x AKIAIOSFODNN7EXAMPL");
  EXPECT_EQ(Scrub("x XAKIAIOSFODNN7EXAMPLE"), "x XAKIAIOSFODNN7EXAMPLE");
}

TEST(CmdlinePrivacyGapsTest, AuthorizationHeaderAsFlagValue) {
  EXPECT_EQ(Scrub("curl --header=Authorization: Basic YWRtaW46cHc= http://x"),
            "curl --header=Authorization: Basic ******** http://x");
  EXPECT_EQ(Scrub("wget --header=proxy-authorization: Bearer abc"),
            "wget --header=proxy-authorization: Bearer ********");
  EXPECT_EQ(Scrub("curl --header=Accept: text/plain"), "curl --header=Accept: text/plain");
}

TEST(CmdlinePrivacyGapsTest, SshpassPassword) {
  EXPECT_EQ(Scrub("sshpass -p hunter2 ssh host"), "sshpass -p ******** ssh host");
  EXPECT_EQ(Scrub("/usr/bin/sshpass -phunter2 ssh host"), "/usr/bin/sshpass -p******** ssh host");
  // -p of other programs is a port, not a secret.
  EXPECT_EQ(Scrub("ssh -p 2222 host"), "ssh -p 2222 host");
  EXPECT_EQ(Scrub("docker run -p 8080:80 nginx"), "docker run -p 8080:80 nginx");
}

}  // namespace
}  // namespace nodeproc
