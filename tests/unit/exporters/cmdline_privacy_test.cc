#include "exporters/cmdline_privacy.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace nodeproc {
namespace {

// --scrub-pattern needs RE2; the Windows (mingw) build has none and refuses patterns
// (cmake/windows.cmake defines NODEPROC_TEST_NO_RE2 for its unit tests).
#if defined(NODEPROC_TEST_NO_RE2)
#define SKIP_WITHOUT_RE2() GTEST_SKIP() << "secret patterns need RE2 (not in the Windows build)"
#else
#define SKIP_WITHOUT_RE2() (void)0
#endif

struct Case {
  std::string in;
  std::string want;
};

TEST(CmdlinePrivacyTest, ScrubsSecretsInRealisticCommandLines) {
  const std::vector<Case> cases = {
      // Flags with = and with a separate value.
      {"app --password=hunter2 --port=80", "app --password=******** --port=80"},
      {"app --password hunter2 -v", "app --password ******** -v"},
      {"app --token=abc.def --token-file=/var/run/token", "app --token=******** --token-file=/var/run/token"},
      {"kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:1234",
       "kubeadm join 10.0.0.1:6443 --token ******** --discovery-token-ca-cert-hash sha256:1234"},
      {"oauth2-proxy --client-secret=s3cr3t --client-id=abc", "oauth2-proxy --client-secret=******** --client-id=abc"},
      {"oauth2-proxy --client-secret s3cr3t", "oauth2-proxy --client-secret ********"},
      {"svc --api-key=AKIA123 --apikey K2 --api_key K3", "svc --api-key=******** --apikey ******** --api_key ********"},
      {"svc api_key=xyz secret=abc passwd=p", "svc api_key=******** secret=******** passwd=********"},
      {"cli token abc123 next", "cli token ******** next"},
      {"redis-server --requirepass foobared --port 6379", "redis-server --requirepass ******** --port 6379"},
      {"redis-server *:6379 --masterauth m4ster", "redis-server *:6379 --masterauth ********"},
      // Environment-style assignments.
      {"env AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI AWS_ACCESS_KEY_ID=AKIA aws s3 ls",
       "env AWS_SECRET_ACCESS_KEY=******** AWS_ACCESS_KEY_ID=AKIA aws s3 ls"},
      {"env GITHUB_TOKEN=ghp_x MYSQL_PWD=pw run", "env GITHUB_TOKEN=******** MYSQL_PWD=******** run"},
      // Java system properties.
      {"java -Dpassword=x -Djavax.net.ssl.keyStorePassword=ks -Xmx1g -jar app.jar",
       "java -Dpassword=******** -Djavax.net.ssl.keyStorePassword=******** -Xmx1g -jar app.jar"},
      {"java -Dspring.datasource.password=pw -Dserver.port=8080",
       "java -Dspring.datasource.password=******** -Dserver.port=8080"},
      // MySQL clients: -pSECRET attached; -p alone prompts; -p elsewhere is a port.
      {"mysql -uroot -pSECRET -h db", "mysql -uroot -p******** -h db"},
      {"/usr/bin/mysqldump -u root -ps3cret mydb", "/usr/bin/mysqldump -u root -p******** mydb"},
      {"mysql -u root -p mydb", "mysql -u root -p mydb"},
      {"nc -p8080 host", "nc -p8080 host"},
      {"docker run -p 8080:80 nginx", "docker run -p 8080:80 nginx"},
      // curl user:pass and headers.
      {"curl -u user:pass https://example.com", "curl -u user:******** https://example.com"},
      {"curl --user admin:pw http://x", "curl --user admin:******** http://x"},
      {"curl -uadmin:pw http://x", "curl -uadmin:******** http://x"},
      {"curl -H Authorization: Bearer eyJhbGciOi.x.y https://api", "curl -H Authorization: Bearer ******** https://api"},
      {"curl -H Authorization: Basic dXNlcjpwYXNz https://api", "curl -H Authorization: Basic ******** https://api"},
      {"curl -H X-Api-Key: k123 https://api", "curl -H X-Api-Key: ******** https://api"},
      {"ps -u root", "ps -u root"},
      // URLs with credentials.
      {"psql postgres://u:p@h/db", "psql postgres://u:********@h/db"},
      {"app --db=postgresql://user:pa:ss@db.local:5432/app?sslmode=require",
       "app --db=postgresql://user:********@db.local:5432/app?sslmode=require"},
      {"app amqp://guest:guest@rabbit:5672/ redis://:onlypass@r:6379/0",
       "app amqp://guest:********@rabbit:5672/ redis://:********@r:6379/0"},
      {"git clone https://user@github.com/x.git", "git clone https://user@github.com/x.git"},
      {"app --url=http://h/?user=a&password=b&x=1", "app --url=http://h/?user=a&password=********&x=1"},
      {"app Server=db;User Id=sa;Password=Pw1;Database=x", "app Server=db;User Id=sa;Password=********;Database=x"},
      // Things that are not secrets stay.
      {"nginx -g daemon off;", "nginx -g daemon off;"},
      {"app --password --verbose", "app --password --verbose"},
      {"docker login --password-stdin -u me", "docker login --password-stdin -u me"},
      {"psql --no-password mydb", "psql --no-password mydb"},
      {"python train.py --tokenizer=bert", "python train.py --tokenizer=bert"},
      {"", ""},
      {"sleep 100", "sleep 100"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CmdlinePrivacy::ScrubKnownSecrets(c.in), c.want) << c.in;
  }
}

TEST(CmdlinePrivacyTest, DefaultScrubsAndCanBeTurnedOff) {
  auto on = CmdlinePrivacy::Create({});
  ASSERT_TRUE(on.ok());
  EXPECT_EQ(on->Apply("app --password=x"), "app --password=********");
  CmdlinePrivacyOptions off_opts;
  off_opts.scrub = false;
  auto off = CmdlinePrivacy::Create(off_opts);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->Apply("app --password=x"), "app --password=x");
}

TEST(CmdlinePrivacyTest, AnonymizeIsTheShortSha256OrHmac) {
  // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  EXPECT_EQ(CmdlinePrivacy::ShortDigest("abc", ""), "ba7816bf8f01");
  // HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog") = f7bc83f430538424...
  EXPECT_EQ(CmdlinePrivacy::ShortDigest("The quick brown fox jumps over the lazy dog", "key"), "f7bc83f43053");

  CmdlinePrivacyOptions o;
  o.anonymize = true;
  o.scrub = false;
  auto plain = CmdlinePrivacy::Create(o);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->Apply("abc"), "ba7816bf8f01");
  EXPECT_EQ(plain->Apply(""), "");  // kernel threads stay recognisable
  o.hmac_key = "key\n";            // a key file's trailing newline is not part of the key
  auto keyed = CmdlinePrivacy::Create(o);
  ASSERT_TRUE(keyed.ok());
  EXPECT_EQ(keyed->Apply("The quick brown fox jumps over the lazy dog"), "f7bc83f43053");

  // Scrubbing comes first: the digest never depends on the secret.
  o.hmac_key.clear();
  o.scrub = true;
  auto both = CmdlinePrivacy::Create(o);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->Apply("app --password=a"), both->Apply("app --password=b"));
  EXPECT_NE(both->Apply("app --port=1"), both->Apply("app --port=2"));
}

TEST(CmdlinePrivacyTest, ExtraPatternsMaskGroupOneOrTheWholeMatch) {
  SKIP_WITHOUT_RE2();
  CmdlinePrivacyOptions o;
  o.extra_patterns = {"--license[= ](\\S+)", "sk_live_[A-Za-z0-9]+"};
  auto p = CmdlinePrivacy::Create(o);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->Apply("app --license=ABC-123 --key sk_live_abc123 --password x"),
            "app --license=******** --key ******** --password ********");
  EXPECT_EQ(p->Apply("app --license L1 other"), "app --license ******** other");
}

TEST(CmdlinePrivacyTest, BadPatternIsInvalidArgument) {
  SKIP_WITHOUT_RE2();
  CmdlinePrivacyOptions o;
  o.extra_patterns = {"([unclosed"};
  auto p = CmdlinePrivacy::Create(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(p.status().message()).find("([unclosed"), std::string::npos);
}

TEST(CmdlinePrivacyTest, LongCommandLinesAreHandled) {
  SKIP_WITHOUT_RE2();
  std::string cmd = "java -cp ";
  for (int i = 0; i < 20000; ++i) cmd += "/opt/lib/jar" + std::to_string(i) + ".jar:";
  cmd += " -Dpassword=x Main";
  cmd = "sk_live_abc " + cmd + " sk_live_end";
  CmdlinePrivacyOptions o;
  // Greedy patterns over a 300 KB classpath would overflow the stack in one std::regex pass.
  o.extra_patterns = {"secret-(\\w+)", "cp (.*) -D", "(sk_live_\\w+)"};
  auto p = CmdlinePrivacy::Create(o);
  ASSERT_TRUE(p.ok());
  std::string out = p->Apply(cmd);
  EXPECT_NE(out.find("-Dpassword=******** Main"), std::string::npos);
  EXPECT_EQ(out.rfind("******** java -cp ", 0), 0u) << out.substr(0, 40);
  EXPECT_EQ(out.substr(out.size() - 9), " ********");
}

#if defined(NODEPROC_TEST_NO_RE2)
TEST(CmdlinePrivacyTest, PatternsAreRefusedWithTheReasonWithoutRe2) {
  CmdlinePrivacyOptions o;
  o.extra_patterns = {"sk_live_[A-Za-z0-9]+"};
  auto p = CmdlinePrivacy::Create(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(p.status().message()).find("need RE2"), std::string::npos) << p.status();
  o.extra_patterns.clear();
  EXPECT_TRUE(CmdlinePrivacy::Create(o).ok());  // the built-in scrubbing needs no RE2
}
#endif

}  // namespace
}  // namespace nodeproc
