#!/usr/bin/env python3
"""Secret scrubbing of command lines, against real-world patterns: for each, a child process
runs with that command line and the secret must appear nowhere in `nodeproc snapshot` output
(CSV, JSON and table), while the harmless parts of the command line stay readable.
"""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import harness  # noqa: E402
from harness import parse_csv, snapshot  # noqa: E402

# (arguments after the program, the secret that must vanish, a harmless word that must stay).
# Program-specific forms (mysql -p<pw>, sshpass -p <pw>) run with that program's name as argv[0].
CASES = [
    (["--password=Pw1-S3cr3tValue"], "Pw1-S3cr3tValue", "--password"),
    (["--password", "Pw2-S3cr3tValue"], "Pw2-S3cr3tValue", "--password"),
    (["--db-password=Pw3-S3cr3tValue"], "Pw3-S3cr3tValue", "--db-password"),
    (["@mysql", "-uroot", "-pPw4MysqlS3cret", "shop"], "Pw4MysqlS3cret", "shop"),
    (["@mysqldump", "--user=root", "--password=Pw4bDumpS3cret", "shop"], "Pw4bDumpS3cret", "shop"),
    (["@redis-server", "--requirepass", "Pw5RedisS3cret"], "Pw5RedisS3cret", "--requirepass"),
    (["--masterauth", "Pw6RedisS3cret"], "Pw6RedisS3cret", "--masterauth"),
    (["--token=tok7abcdef0123456789"], "tok7abcdef0123456789", "--token"),
    (["--token", "tok8abcdef0123456789"], "tok8abcdef0123456789", "--token"),
    (["--api-key=key9abcdef0123456789"], "key9abcdef0123456789", "--api-key"),
    (["api_key=key10abcdef012345678"], "key10abcdef012345678", "api_key"),
    (["--client-secret=sec11abcdef0123456"], "sec11abcdef0123456", "--client-secret"),
    (["--secret", "sec12abcdef0123456"], "sec12abcdef0123456", "--secret"),
    (["AKIAIOSFODNN7EXAMPL3"], "AKIAIOSFODNN7EXAMPL3", None),                          # AWS key id
    (["--aws-secret-access-key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE13"],
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE13", "--aws-secret-access-key"),
    (["AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE14"],
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE14", "AWS_SECRET_ACCESS_KEY"),
    (["postgres://app:Pg15Passw0rd@db.example:5432/shop"], "Pg15Passw0rd", "db.example"),
    (["https://admin:Http16Passw0rd@registry.example/v2/"], "Http16Passw0rd", "registry.example"),
    (["--url", "redis://:Redis17Passw0rd@cache:6379/0"], "Redis17Passw0rd", "cache"),
    (["jdbc:mysql://db:3306/shop?user=app&password=Jdbc18Passw0rd&ssl=true"], "Jdbc18Passw0rd", "jdbc:mysql"),
    (["-Djavax.net.ssl.keyStorePassword=Ks19Passw0rd", "-jar", "app.jar"], "Ks19Passw0rd", "app.jar"),
    (["-H", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyMCJ9.c2lnMjBzZWNyZXQ"],
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyMCJ9.c2lnMjBzZWNyZXQ", "Authorization"),
    (["--header=Authorization: Basic YWRtaW46YmFzaWMyMXB3"], "YWRtaW46YmFzaWMyMXB3", None),
    (["@sshpass", "-p", "Sshpass22Secret", "ssh", "host"], "Sshpass22Secret", "ssh"),
    (["--access-token=ghp_23abcdefghijklmnopqrstuvwxyz0123456789"],
     "ghp_23abcdefghijklmnopqrstuvwxyz0123456789", "--access-token"),
    (["PGPASSWORD=Pg24Passw0rd"], "Pg24Passw0rd", "PGPASSWORD"),
    (["--private-key=pk25abcdef0123456789"], "pk25abcdef0123456789", "--private-key"),
    (["--auth-token=xoxb-26-abcdefghij-klmnopqrst"], "xoxb-26-abcdefghij-klmnopqrst", "--auth-token"),
    # Issue 14: scrubbed on the argument vector (a value with spaces is masked whole) and the
    # forms that leaked before.
    (["--password", "Cor27rect horse27 battery27"], "horse27 battery27", "--password"),
    (["--db-pass=Dbp28S3cretValue"], "Dbp28S3cretValue", "--db-pass"),
    (["-dsn", "app:Go29S3cret@tcp(db:3306)/shop"], "Go29S3cret", "tcp(db:3306)/shop"),
    (["postgres://app:Pa/ss30w0rd@db:5432/shop"], "Pa/ss30w0rd", "db:5432/shop"),
    (["@aws", "configure", "set", "aws_secret_access_key", "Aws31SecretAccessKeyValue"],
     "Aws31SecretAccessKeyValue", "aws_secret_access_key"),
    (["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIzMiJ9.c2lnMzJzZWNyZXQ"], "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIzMiJ9", None),
    (["@redis-cli", "-a", "Redis33S3cret", "ping"], "Redis33S3cret", "ping"),
    (["ghp_34abcdefghijklmnopqrstuvwxyz0123456789"], "ghp_34abcdefghijklmnopqrstuvwxyz", None),
    (["--token", "gho_35abcdefghijklmnopqrstuvwxyz0123456789"], "gho_35abcdefghijklmnopqrstuvwxyz", "--token"),
]

SLEEPER = "import time; time.sleep(120)"


def setUpModule():
    harness.require_agent()


class ScrubTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.children = []
        for args, _, _ in CASES:
            argv0 = sys.executable
            if args and args[0].startswith("@"):
                argv0, args = args[0][1:], args[1:]
            cls.children.append(subprocess.Popen([argv0, "-c", SLEEPER, *args],
                                                 executable=sys.executable,
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        try:
            time.sleep(0.3)  # let every child exec (its cmdline is the python one before)
            cls.outputs = {fmt: snapshot(fmt=fmt).stdout for fmt in ("csv", "json", "table")}
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for c in cls.children:
            c.kill()
            c.wait()

    def test_no_secret_in_any_output(self):
        _, rows = parse_csv(self.outputs["csv"])
        by_pid = {int(r["pid"]): r for r in rows}
        leaked, kept_ok = [], 0
        for child, (args, secret, harmless) in zip(self.children, CASES):
            row = by_pid.get(child.pid)
            self.assertIsNotNone(row, f"child {args} missing")
            for fmt, text in self.outputs.items():
                if secret in text:
                    leaked.append(f"{fmt}: {' '.join(args)} -> {row['cmdline'] if fmt == 'csv' else ''}")
            if harmless:
                self.assertIn(harmless, row["cmdline"], "the rest of the command line stays readable")
            if "********" in row["cmdline"]:
                kept_ok += 1
        leaked_cases = {l.split(": ", 1)[1].split(" -> ")[0] for l in leaked}
        print(f"scrubbing: {len(CASES) - len(leaked_cases)}/{len(CASES)} patterns scrubbed in "
              f"CSV, JSON and table ({kept_ok} rows show ********)")
        self.assertEqual(leaked, [], "secrets leaked:\n" + "\n".join(leaked))

    def test_anonymize_shows_no_command_line_at_all(self):
        out = snapshot("--anonymize").stdout
        for args, secret, _ in CASES:
            self.assertNotIn(secret, out)
        _, rows = parse_csv(out)
        mine = {c.pid for c in self.children}
        for r in rows:
            if int(r["pid"]) in mine:
                self.assertRegex(r["cmdline"], r"^[0-9a-f]{12}$")

    def test_extra_scrub_pattern_flag(self):
        child = subprocess.Popen([sys.executable, "-c", SLEEPER, "--custom-field", "Custom99Value"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            plain = snapshot().stdout
            out = snapshot(r"--scrub-pattern=--custom-field[ =](\S+)").stdout
            _, rows = parse_csv(out)
            row = next(r for r in rows if int(r["pid"]) == child.pid)
            self.assertNotIn("Custom99Value", row["cmdline"])
            self.assertIn("Custom99Value", plain, "not scrubbed without the pattern")
        finally:
            child.kill()
            child.wait()


if __name__ == "__main__":
    unittest.main(verbosity=2)
