// Every form of secret scrubbed by default (issue 14), on the argument vector (what the probe
// hands over) and on the joined line (probes without argv): the secret never survives, the
// harmless parts stay, and the output is the arguments joined by spaces.
#include <string>
#include <vector>

#include "exporters/cmdline_privacy.h"
#include "gtest/gtest.h"

namespace nodeproc {
namespace {

struct Form {
  const char* what;
  std::vector<std::string> argv;
  std::string want;    // ScrubKnownSecretsInArgs(argv)
  std::string secret;  // must vanish from both forms (when it has no space: see below)
};

std::string Nul(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    out.append(a);
    out.push_back('\0');
  }
  return out;
}

std::string Joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) out.append(out.empty() ? "" : " ").append(a);
  return out;
}

const std::vector<Form>& Forms() {
  static const auto* forms = new std::vector<Form>{
      // New in issue 14.
      {"multi-word value", {"app", "--password", "correct horse battery", "-v"},
       "app --password ******** -v", "correct horse battery"},
      {"multi-word after =", {"app", "--password=correct horse battery"},
       "app --password=********", "correct horse battery"},
      {"--db-pass=", {"app", "--db-pass=Dbp4ssW0rd"}, "app --db-pass=********", "Dbp4ssW0rd"},
      {"--db-pass value", {"app", "--db-pass", "Dbp4ssW0rd"}, "app --db-pass ********", "Dbp4ssW0rd"},
      {"SSH_PASS=", {"env", "SSH_PASS=Ssh9Secret", "run"}, "env SSH_PASS=******** run", "Ssh9Secret"},
      {"Go DSN", {"app", "-dsn", "app:Go5ecret@tcp(db:3306)/shop"},
       "app -dsn app:********@tcp(db:3306)/shop", "Go5ecret"},
      {"Go DSN in a flag", {"app", "--database=root:Go6@ecret@tcp(127.0.0.1:3306)/x?parseTime=true"},
       "app --database=root:********@tcp(127.0.0.1:3306)/x?parseTime=true", "Go6@ecret"},
      {"Go DSN unix socket", {"app", "u:Go7ecret@unix(/run/mysqld.sock)/db"},
       "app u:********@unix(/run/mysqld.sock)/db", "Go7ecret"},
      {"URL password with /", {"app", "postgres://app:Pa/ss9w0rd@db:5432/shop"},
       "app postgres://app:********@db:5432/shop", "Pa/ss9w0rd"},
      {"URL password with / and @ path", {"app", "https://u:x/Y+z@registry.example/v2/"},
       "app https://u:********@registry.example/v2/", "x/Y+z"},
      {"aws configure set", {"aws", "configure", "set", "aws_secret_access_key", "wJalrXUtnFEMIK7MDENGbPxRfiCY"},
       "aws configure set aws_secret_access_key ********", "wJalrXUtnFEMIK7MDENGbPxRfiCY"},
      {"aws configure set session token", {"aws", "configure", "set", "aws_session_token", "FwoGZXIvYXdzEJr"},
       "aws configure set aws_session_token ********", "FwoGZXIvYXdzEJr"},
      {"bare JWT", {"client", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU", "--verbose"},
       "client ******** --verbose", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU"},
      {"JWT inside a header value", {"curl", "-H", "X-Auth:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_part-1"},
       "curl -H X-Auth:********", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_part-1"},
      {"redis-cli -a", {"redis-cli", "-h", "cache", "-a", "Redis4Secret", "ping"},
       "redis-cli -h cache -a ******** ping", "Redis4Secret"},
      {"redis-cli path -a", {"/usr/bin/redis-cli", "-a", "Redis5Secret"}, "/usr/bin/redis-cli -a ********",
       "Redis5Secret"},
      {"ghp_", {"gh", "auth", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"}, "gh auth ********",
       "ghp_16C7e42F292c6912E7710c838347Ae178B4a"},
      {"gho_", {"app", "gho_16C7e42F292c6912E7710c838347Ae178B4a"}, "app ********",
       "gho_16C7e42F292c6912E7710c838347Ae178B4a"},
      {"ghu_/ghs_/ghr_ in a URL", {"git", "clone", "https://x-access-token:ghs_16C7e42F292c6912E7710c838347Ae178B4a@github.com/o/r"},
       "git clone https://x-access-token:********@github.com/o/r", "ghs_16C7e42F292c6912E7710c838347Ae178B4a"},
      {"ghr_", {"app", "--refresh=ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498"},
       "app --refresh=********", "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498"},
      {"github_pat_", {"app", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS"},
       "app ********", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS"},
      {"secret inside sh -c", {"sh", "-c", "mysql -uroot -pSh3llSecret shop && echo ok"},
       "sh -c mysql -uroot -p******** shop && echo ok", "Sh3llSecret"},
      // Forms scrubbed before issue 14 (still).
      {"--password=", {"app", "--password=hunter2"}, "app --password=********", "hunter2"},
      {"--token value", {"kubeadm", "join", "--token", "abcdef.0123456789abcdef"},
       "kubeadm join --token ********", "abcdef.0123456789abcdef"},
      {"-Dpassword", {"java", "-Dpassword=Jv4Secret", "-jar", "a.jar"}, "java -Dpassword=******** -jar a.jar",
       "Jv4Secret"},
      {"AWS_SECRET_ACCESS_KEY=", {"env", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI"}, "env AWS_SECRET_ACCESS_KEY=********",
       "wJalrXUtnFEMI"},
      {"mysql -p", {"mysql", "-uroot", "-pMy5ecret"}, "mysql -uroot -p********", "My5ecret"},
      {"sshpass -p", {"sshpass", "-p", "Ssh5ecret", "ssh", "h"}, "sshpass -p ******** ssh h", "Ssh5ecret"},
      {"curl -u", {"curl", "-u", "admin:Curl5ecret", "http://x"}, "curl -u admin:******** http://x", "Curl5ecret"},
      {"URL", {"psql", "postgres://u:Pg5ecret@h/db"}, "psql postgres://u:********@h/db", "Pg5ecret"},
      {"Bearer header", {"curl", "-H", "Authorization: Bearer Tok5ecret", "https://api"},
       "curl -H Authorization: Bearer ******** https://api", "Tok5ecret"},
      {"AKIA id", {"aws", "AKIAIOSFODNN7EXAMPLE"}, "aws ********", "AKIAIOSFODNN7EXAMPLE"},
      {"query string", {"app", "http://h/?password=Q5ecret&x=1"}, "app http://h/?password=********&x=1", "Q5ecret"},
  };
  return *forms;
}

TEST(CmdlineScrubTableTest, EveryFormOnTheArgumentVector) {
  for (const Form& f : Forms()) {
    const std::string out = CmdlinePrivacy::ScrubKnownSecretsInArgs(Nul(f.argv));
    EXPECT_EQ(out, f.want) << f.what;
    EXPECT_EQ(out.find(f.secret), std::string::npos) << f.what;
    // The public entry point gives the same (default options: scrub, no anonymisation).
    EXPECT_EQ(CmdlinePrivacy().ApplyArgs(Nul(f.argv)), f.want) << f.what;
  }
}

TEST(CmdlineScrubTableTest, EveryFormWithoutSpacesOnTheJoinedLine) {
  for (const Form& f : Forms()) {
    const std::string joined = Joined(f.argv);
    const std::string out = CmdlinePrivacy::ScrubKnownSecrets(joined);
    if (f.secret.find(' ') == std::string::npos) {
      EXPECT_EQ(out.find(f.secret), std::string::npos) << f.what << ": " << out;
    }
    // Either way no word of it survives next to its flag in the argv form.
    EXPECT_EQ(CmdlinePrivacy().Apply(joined), out) << f.what;
  }
}

TEST(CmdlineScrubTableTest, HarmlessLookalikesStay) {
  const std::vector<std::vector<std::string>> keep = {
      {"app", "--bypass=true", "--compass", "north"},
      {"docker", "run", "reg.io:5000/img@sha256:0123abcd"},
      {"git", "clone", "https://host/repo@v1.2"},
      {"npm", "install", "left-pad@1.3.0"},
      {"app", "--set", "replicas", "3"},
      {"redis-server", "-a", "append-only"},  // -a is redis-cli's, not redis-server's
      {"echo", "eyJ"},
      {"app", "ghp_short"},
      {"mysql", "-u", "root", "-p", "mydb"},
      {"app", "", "--verbose", "", "x"},  // empty arguments keep their separators
  };
  for (const auto& argv : keep) {
    const std::string joined = Joined(argv);
    EXPECT_EQ(CmdlinePrivacy::ScrubKnownSecretsInArgs(Nul(argv)), joined);
    EXPECT_EQ(CmdlinePrivacy::ScrubKnownSecrets(joined), joined);
  }
}

TEST(CmdlineScrubTableTest, ExtraRe2PatternsAndAnonymisationOnArgs) {
  CmdlinePrivacyOptions o;
  o.extra_patterns = {"--license[= ](\\S+)"};
  auto p = CmdlinePrivacy::Create(o);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->ApplyArgs(Nul({"app", "--license", "L1", "--password", "a b"})),
            "app --license ******** --password ********");
  o.extra_patterns = {"(?=lookahead)"};  // not RE2: a one-line error naming the pattern
  auto bad = CmdlinePrivacy::Create(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("(?=lookahead)"), std::string::npos);
  EXPECT_EQ(std::string(bad.status().message()).find('\n'), std::string::npos);
  CmdlinePrivacyOptions anon;
  anon.anonymize = true;
  auto a = CmdlinePrivacy::Create(anon);
  ASSERT_TRUE(a.ok());
  // The digest is over the scrubbed, joined line: the same as for the joined input.
  EXPECT_EQ(a->ApplyArgs(Nul({"app", "--password", "x"})), a->Apply("app --password x"));
  EXPECT_EQ(a->ApplyArgs(""), "");
}

}  // namespace
}  // namespace nodeproc
