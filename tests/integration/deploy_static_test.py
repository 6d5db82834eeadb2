"""tests/integration/deploy_static_test.py: checks on deploy/ that need no mailbridge binary.

  ShellCheck      shellcheck passes on every shell script (deploy/**/*.sh, deploy/entrypoint.sh, .ci/run)
  Compose         `docker-compose -f deploy/docker-compose.yml config` accepts the compose file
  SystemdUnit     `systemd-analyze verify` accepts deploy/mailbridge.service (binary paths pointed at an
                  existing executable, since verify insists that ExecStart= exists) and the unit has the
                  hardening issue #6 asks for
  SameScript      the Dockerfile's build step, README's two commands and .ci/run all go through
                  deploy/scripts/build.sh, so the image cannot drift from what CI tests
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROOT = harness.REPO_ROOT


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def shell_scripts():
    scripts = sorted(p for p in (ROOT / "deploy").rglob("*.sh"))
    scripts.append(ROOT / ".ci" / "run")
    return scripts


class ShellCheck(unittest.TestCase):
    def test_every_script(self):
        scripts = shell_scripts()
        self.assertIn(ROOT / "deploy/entrypoint.sh", scripts)
        self.assertIn(ROOT / "deploy/scripts/build.sh", scripts)
        exe = shutil.which("shellcheck")
        self.assertIsNotNone(exe, "shellcheck missing: deploy/scripts/deps.sh --test installs it")
        proc = run([exe, "--shell=bash", *map(str, scripts)])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)


class Compose(unittest.TestCase):
    def test_config_is_valid(self):
        exe = shutil.which("docker-compose")
        self.assertIsNotNone(exe, "docker-compose missing: deploy/scripts/deps.sh --test installs it")
        proc = run([exe, "-f", str(ROOT / "deploy/docker-compose.yml"), "config"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = proc.stdout
        # The pieces issue #6 asks for survive docker-compose's normalisation.
        for needle in ("/srv/mail", "/etc/mailbridge", "healthcheck", "143", "993", "110", "995"):
            self.assertIn(needle, out)
        self.assertRegex(out, r"(?m)^volumes:\n\s+mail:")


class SystemdUnit(unittest.TestCase):
    UNIT = ROOT / "deploy/mailbridge.service"

    def test_verify(self):
        exe = shutil.which("systemd-analyze")
        self.assertIsNotNone(exe, "systemd-analyze missing: deploy/scripts/deps.sh --test installs systemd")
        target = os.environ.get("MAILBRIDGE_BIN") or "/bin/true"
        text = self.UNIT.read_text().replace("/usr/local/bin/mailbridge", target)
        with tempfile.TemporaryDirectory() as tmp:
            unit = Path(tmp) / "mailbridge.service"
            unit.write_text(text)
            proc = run([exe, "verify", str(unit)])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_hardening(self):
        text = self.UNIT.read_text()
        for line in ("ProtectSystem=strict", "NoNewPrivileges=yes",
                     "AmbientCapabilities=CAP_NET_BIND_SERVICE", "ExecReload=/bin/kill -HUP $MAINPID"):
            self.assertIn(line, text.splitlines())
        self.assertRegex(text, r"(?m)^ReadWritePaths=\S+")
        self.assertRegex(text, r"(?m)^User=\w+")
        self.assertRegex(text, r"(?m)^ExecStart=\S+ --config \S+$")


class SameScript(unittest.TestCase):
    def test_readme_commands(self):
        lines = (ROOT / "README.md").read_text().splitlines()
        commands = [l.split("#")[0].strip() for l in lines if l.startswith("bash ")]
        self.assertEqual(commands[:2], ["bash deploy/scripts/demo.sh", "bash deploy/scripts/test.sh"])
        # They are the first thing in the README: inside the first code block.
        first_block = "\n".join(lines[:lines.index("```", lines.index("```sh") + 1)])
        self.assertIn(commands[0], first_block)
        self.assertIn(commands[1], first_block)

    def test_ci_runs_readme_test_command(self):
        body = [l for l in (ROOT / ".ci/run").read_text().splitlines()
                if l.strip() and not l.startswith("#")]
        self.assertEqual(body, ["set -euo pipefail", "bash deploy/scripts/test.sh"])

    def test_all_build_through_build_sh(self):
        demo = (ROOT / "deploy/scripts/demo.sh").read_text()
        test = (ROOT / "deploy/scripts/test.sh").read_text()
        docker = (ROOT / "deploy/Dockerfile").read_text()
        self.assertRegex(demo, r'deploy/scripts/build\.sh" release')
        self.assertRegex(test, r'deploy/scripts/build\.sh" dev')
        self.assertRegex(docker, r"(?m)^RUN .*bash deploy/scripts/build\.sh release")
        self.assertIn("build/release/gateway/mailbridge", docker)
        self.assertIn("build/release/gateway/mailbridge", demo)
        # Only build.sh configures or builds: nobody can bypass it with other flags.
        for path in [ROOT / "deploy/Dockerfile", *shell_scripts()]:
            if path.name == "build.sh":
                continue
            self.assertNotRegex(path.read_text(), r"cmake\s+(--build|--preset)", str(path))

    def test_dockerfile_contract(self):
        docker = (ROOT / "deploy/Dockerfile").read_text()
        self.assertRegex(docker, r"(?m)^FROM debian:bookworm AS build$")
        self.assertRegex(docker, r"(?m)^FROM debian:bookworm-slim$")
        self.assertRegex(docker, r"(?m)^EXPOSE 143 993 110 995$")
        self.assertRegex(docker, r"(?m)^USER mailbridge$")
        self.assertRegex(docker, r"(?m)^STOPSIGNAL SIGTERM$")
        self.assertRegex(docker, r"(?m)^HEALTHCHECK ")
        self.assertRegex(docker, r"(?m)^VOLUME .*/srv/mail.*/etc/mailbridge")
        self.assertIn("setcap cap_net_bind_service=+ep", docker)
        entry = (ROOT / "deploy/entrypoint.sh").read_text()
        self.assertIn('exec "$bin" healthcheck --config', entry)


if __name__ == "__main__":
    harness.main()
