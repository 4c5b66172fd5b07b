#include "core/log_limiter.h"

#include "gtest/gtest.h"

namespace nodeproc {
namespace {

class LogLimiterTest : public ::testing::Test {
 protected:
  absl::Time now_ = absl::FromUnixSeconds(1795000000);
  LogLimiter limiter_{absl::Minutes(10), [this] { return now_; }};
};

TEST_F(LogLimiterTest, FirstOccurrenceThenOneLinePerIntervalWithTheCount) {
  LogLimiter::Decision d = limiter_.Occur("kubelet:summary", "tls");
  EXPECT_TRUE(d.log);
  EXPECT_EQ(d.suppressed, 0u);
  for (int i = 0; i < 59; ++i) {  // every 10 s for 590 s: inside the interval
    now_ += absl::Seconds(10);
    EXPECT_FALSE(limiter_.Occur("kubelet:summary", "tls").log) << i;
  }
  now_ += absl::Seconds(10);  // 600 s after the first line
  d = limiter_.Occur("kubelet:summary", "tls");
  EXPECT_TRUE(d.log);
  EXPECT_EQ(d.suppressed, 59u);
  now_ += absl::Seconds(1);
  EXPECT_FALSE(limiter_.Occur("kubelet:summary", "tls").log);
  now_ += absl::Minutes(10);
  d = limiter_.Occur("kubelet:summary", "tls");
  EXPECT_TRUE(d.log);
  EXPECT_EQ(d.suppressed, 1u);
}

TEST_F(LogLimiterTest, CausesAreIndependent) {
  EXPECT_TRUE(limiter_.Occur("kubelet:summary", "tls").log);
  EXPECT_TRUE(limiter_.Occur("kubelet:summary", "reset").log);
  EXPECT_TRUE(limiter_.Occur("kubelet:pods", "tls").log);
  EXPECT_FALSE(limiter_.Occur("kubelet:summary", "reset").log);
}

TEST_F(LogLimiterTest, RecoveryIsReportedOnceAndTheNextOutageLogsAtOnce) {
  EXPECT_FALSE(limiter_.Recover("kubelet:summary").has_value()) << "never failed";
  ASSERT_TRUE(limiter_.Occur("kubelet:summary", "refused").log);
  now_ += absl::Seconds(10);
  ASSERT_FALSE(limiter_.Occur("kubelet:summary", "refused").log);
  now_ += absl::Seconds(10);
  ASSERT_TRUE(limiter_.Occur("kubelet:summary", "timeout").log);  // a new kind is logged
  now_ += absl::Seconds(40);
  std::optional<LogLimiter::Recovery> r = limiter_.Recover("kubelet:summary");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->failures, 3u);
  EXPECT_EQ(r->down_for, absl::Minutes(1));
  EXPECT_FALSE(limiter_.Recover("kubelet:summary").has_value()) << "reported once";
  // A second outage of the same kind, a minute later (inside the interval): logged again.
  now_ += absl::Minutes(1);
  LogLimiter::Decision d = limiter_.Occur("kubelet:summary", "refused");
  EXPECT_TRUE(d.log);
  EXPECT_EQ(d.suppressed, 0u);
}

TEST_F(LogLimiterTest, RecoveringOneSourceLeavesOthersFailing) {
  ASSERT_TRUE(limiter_.Occur("kubelet:summary", "refused").log);
  ASSERT_TRUE(limiter_.Occur("procfs:/proc:io", "EACCES").log);
  EXPECT_TRUE(limiter_.Recover("kubelet:summary").has_value());
  EXPECT_FALSE(limiter_.Occur("procfs:/proc:io", "EACCES").log);
  EXPECT_TRUE(limiter_.Recover("procfs:/proc:io").has_value());
}

}  // namespace
}  // namespace nodeproc
