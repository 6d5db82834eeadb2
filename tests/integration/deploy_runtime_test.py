"""tests/integration/deploy_runtime_test.py: deploy/ against the real mailbridge binary.

  Entrypoint    deploy/entrypoint.sh run outside a container (temp root, MAILBRIDGE_* variables)
                writes a config that `mailbridge --check-config` accepts; a mounted config is left
                unchanged; a self-signed certificate is generated through the binary and announced
  Healthcheck   `mailbridge healthcheck --config` exits 0 against a running server and non-zero,
                naming the failing listener, once it is stopped
  HarnessSmoke  the harness itself: all four listeners greet, SIGTERM exits 0, hashed user works
  ExampleConfig deploy/mailbridge.example.toml (paths moved into a temp root) with
                deploy/users.example passes --check-config, and the server runs on it
  MetricsScrape `[listen] metrics` after IMAP and POP3 traffic: the transport counters moved by
                exactly the connections made and octets sent; other paths answer 404
"""

import os
import subprocess
import sys
import tempfile
import time
import socket
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ENTRYPOINT = harness.REPO_ROOT / "deploy/entrypoint.sh"


def run_entrypoint(root, *args, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBRIDGE_")}
    full_env.update({"MAILBRIDGE_BIN": harness.binary(), "MAILBRIDGE_ROOT": str(root)})
    full_env.update(env)
    return subprocess.run(["bash", str(ENTRYPOINT), *args], env=full_env, capture_output=True,
                          text=True, timeout=120)


class Entrypoint(unittest.TestCase):
    def test_env_config_passes_check_config(self):
        with tempfile.TemporaryDirectory() as root:
            cert, key = harness.make_cert(root)
            proc = run_entrypoint(root, "prepare", MAILBRIDGE_TLS_CERT=cert, MAILBRIDGE_TLS_KEY=key,
                                  MAILBRIDGE_IMAP_PORT="1143", MAILBRIDGE_POP3_PORT="off",
                                  MAILBRIDGE_USERS="alice:alice-pw,bob:bob-pw",
                                  MAILBRIDGE_STORE_PATH=f"{root}/vmail/%d/%n/Maildir")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            config = Path(root, "etc/mailbridge/mailbridge.toml")
            self.assertTrue(config.is_file(), proc.stderr)
            text = config.read_text()
            self.assertIn('imap = ["0.0.0.0:1143"]', text)
            self.assertIn('imaps = ["0.0.0.0:993"]', text)
            self.assertNotIn("pop3 =", text)
            self.assertIn(f'cert = "{cert}"', text)
            users = Path(root, "etc/mailbridge/users").read_text().splitlines()
            self.assertEqual([u.split(":")[0] for u in users], ["alice", "bob"])
            self.assertTrue(all(u.split(":", 1)[1].startswith("{SHA512-CRYPT}") for u in users))
            check = harness.run_binary("--check-config", "--config", str(config))
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_self_signed_certificate_is_generated_loudly(self):
        with tempfile.TemporaryDirectory() as root:
            proc = run_entrypoint(root, "prepare")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("SELF-SIGNED", proc.stderr)
            etc = Path(root, "etc/mailbridge")
            self.assertGreater(etc.joinpath("cert.pem").stat().st_size, 0)
            self.assertEqual(etc.joinpath("key.pem").stat().st_mode & 0o077, 0)
            self.assertIn("-----BEGIN CERTIFICATE-----", etc.joinpath("cert.pem").read_text())
            check = harness.run_binary("--check-config", "--config", str(etc / "mailbridge.toml"))
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_mounted_config_is_used_unchanged(self):
        with tempfile.TemporaryDirectory() as root:
            etc = Path(root, "etc/mailbridge")
            etc.mkdir(parents=True)
            mounted = "# mine\n[listen]\nimap = [\"127.0.0.1:1\"]\n"
            etc.joinpath("mailbridge.toml").write_text(mounted)
            proc = run_entrypoint(root, "prepare", MAILBRIDGE_IMAP_PORT="2")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(etc.joinpath("mailbridge.toml").read_text(), mounted)
            self.assertIn("unchanged", proc.stderr)
            self.assertFalse(etc.joinpath("cert.pem").exists())

    def test_bad_port_is_refused(self):
        with tempfile.TemporaryDirectory() as root:
            proc = run_entrypoint(root, "prepare", MAILBRIDGE_IMAP_PORT="imap")
            self.assertEqual(proc.returncode, 1)
            self.assertIn("MAILBRIDGE_IMAP_PORT", proc.stderr)


class Healthcheck(unittest.TestCase):
    def test_running_then_stopped(self):
        with harness.Server(hashed_users={}) as srv:
            ok = harness.run_binary("healthcheck", "--config", srv.config_path)
            self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
            srv.stop()
            bad = harness.run_binary("healthcheck", "--config", srv.config_path)
            self.assertNotEqual(bad.returncode, 0)
            # The reason names a listener that is down.
            self.assertRegex(bad.stdout + bad.stderr, r"127\.0\.0\.1:\d+")


class HarnessSmoke(unittest.TestCase):
    def test_greetings_and_clean_exit(self):
        with harness.Server() as srv:
            for proto in harness.PROTOCOLS:
                line = harness.read_greeting(srv.host, srv.ports[proto], proto)
                self.assertTrue(harness.greeting_ok(proto, line), f"{proto}: {line!r}")
            self.assertTrue(Path(srv.passwd_path).read_text().count("{SHA512-CRYPT}") == 1)
            code = srv.stop()
            self.assertEqual(code, 0)


class ExampleConfig(unittest.TestCase):
    def test_example_config_and_users_are_valid(self):
        with tempfile.TemporaryDirectory() as root:
            etc = Path(root, "etc/mailbridge")
            etc.mkdir(parents=True)
            Path(root, "srv/mail").mkdir(parents=True)
            harness.make_cert(etc)
            ports = harness.free_ports(4)
            text = (harness.REPO_ROOT / "deploy/mailbridge.example.toml").read_text()
            text = text.replace("/etc/mailbridge", str(etc)).replace("/srv/mail", f"{root}/srv/mail")
            for default, port in zip((":143\"", ":993\"", ":110\"", ":995\""), ports):
                text = text.replace("0.0.0.0" + default, f"127.0.0.1:{port}\"")
            self.assertNotIn("0.0.0.0", text)
            config = etc / "mailbridge.toml"
            config.write_text(text)
            (etc / "users").write_text((harness.REPO_ROOT / "deploy/users.example").read_text())
            check = harness.run_binary("--check-config", "--config", str(config))
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            # And it serves: every listener of the example greets.
            proc = subprocess.Popen([harness.binary(), "--config", str(config)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                health = None
                for _ in range(100):
                    health = harness.run_binary("healthcheck", "--config", str(config))
                    if health.returncode == 0 or proc.poll() is not None:
                        break
                    time.sleep(0.1)
                self.assertEqual(health.returncode, 0, health.stderr)
            finally:
                proc.terminate()
                _, err = proc.communicate(timeout=15)
            self.assertEqual(proc.returncode, 0, err.decode(errors="replace")[-2000:])


class MetricsScrape(unittest.TestCase):
    def scrape(self, srv):
        status, body = harness.metrics_scrape(srv.host, srv.ports["metrics"])
        self.assertEqual(status, 200, body)
        return harness.parse_metrics(body)

    def test_counters_follow_traffic(self):
        with harness.Server(metrics=True) as srv:
            before = self.scrape(srv)
            sent = {"pop3": 0, "imap": 0}
            for _ in range(2):
                with srv.raw("pop3") as c:
                    self.assertTrue(c.readline().startswith(b"+OK"))
                    for line in (b"USER alice\r\n", b"PASS alice-secret\r\n", b"STAT\r\n",
                                 b"QUIT\r\n"):
                        c.send(line)
                        sent["pop3"] += len(line)
                        self.assertTrue(c.readline().startswith(b"+OK"), line)
            with srv.raw("imap") as c:
                self.assertTrue(c.readline().startswith(b"* OK"))
                for line, tag in ((b"a1 LOGIN bob bob-secret\r\n", b"a1 "),
                                  (b"a2 SELECT INBOX\r\n", b"a2 "), (b"a3 LOGOUT\r\n", b"a3 ")):
                    c.send(line)
                    sent["imap"] += len(line)
                    self.assertIn(b" OK", c.read_until(tag)[-1], line)
            after = self.scrape(srv)

            def delta(name):
                return after.get(name, 0) - before.get(name, 0)

            self.assertEqual(delta('mailbridge_accepted_connections_total{listener="pop3"}'), 2)
            self.assertEqual(delta('mailbridge_accepted_connections_total{listener="imap"}'), 1)
            self.assertEqual(delta('mailbridge_received_bytes_total{listener="pop3"}'), sent["pop3"])
            self.assertEqual(delta('mailbridge_received_bytes_total{listener="imap"}'), sent["imap"])
            self.assertGreater(delta('mailbridge_sent_bytes_total{listener="pop3"}'), 0)
            self.assertGreater(delta('mailbridge_sent_bytes_total{listener="imap"}'), 0)
            version = harness.run_binary("--version").stdout.split()[-1]
            self.assertEqual(after[f'mailbridge_build_info{{version="{version}"}}'], 1)
            status, _ = harness.metrics_scrape(srv.host, srv.ports["metrics"], path="/")
            self.assertEqual(status, 404)

    def test_store_gauge_and_error_series_move(self):
        # Issue #6 point 5: open mailboxes, store operation latencies, errors by kind.
        with harness.Server(metrics=True) as srv:
            srv.deliver("alice", harness.make_message(subject="metrics"))
            before = self.scrape(srv)
            with srv.raw("pop3") as c:
                self.assertTrue(c.readline().startswith(b"+OK"))
                c.send(b"STAT\r\n")                      # wrong state: a protocol error
                self.assertTrue(c.readline().startswith(b"-ERR"))
                for line in (b"USER alice\r\n", b"PASS alice-secret\r\n"):
                    c.send(line)
                    self.assertTrue(c.readline().startswith(b"+OK"), line)
                during = self.scrape(srv)                  # the session holds INBOX open
                c.send(b"RETR 1\r\n")                    # sets \Seen: a store_flags call
                self.assertTrue(c.readline().startswith(b"+OK"))
                while c.readline() not in (b".\r\n", b""):
                    pass
                c.send(b"QUIT\r\n")
                self.assertTrue(c.readline().startswith(b"+OK"))
            # A client that is not speaking TLS to the implicit-TLS port: a failed handshake.
            with socket.create_connection(srv.address("pop3s"), timeout=10) as s:
                s.sendall(b"USER alice\r\n" * 4)
                s.settimeout(10)
                try:
                    while s.recv(4096):
                        pass
                except OSError:
                    pass
            after = self.scrape(srv)

            def delta(name):
                return after.get(name, 0) - before.get(name, 0)

            self.assertGreaterEqual(during["mailbridge_mailboxes_open"], 1)
            op = 'mailbridge_store_operation_duration_seconds_count{{operation="{}"}}'
            for name in ("open_user", "open", "store_flags"):
                self.assertGreaterEqual(delta(op.format(name)), 1, name)
            self.assertGreater(delta('mailbridge_store_operation_duration_seconds_sum{operation="open"}'), 0)
            self.assertGreaterEqual(delta('mailbridge_errors_total{kind="protocol"}'), 1)
            self.assertGreaterEqual(delta('mailbridge_errors_total{kind="tls"}'), 1)
            self.assertEqual(delta('mailbridge_errors_total{kind="store"}'), 0)


if __name__ == "__main__":
    harness.main()
