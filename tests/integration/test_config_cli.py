"""`dovetail config`, the doveconf-alike, through the real binary: golden -n output for the
configs in tests/data/config, exit codes (64 usage, 78 config errors with file:line), -h, -P,
and a differential check against Dovecot's own `doveconf -n -c` where it is installed."""

import glob
import os
import shutil
import subprocess
import re
import tempfile
import unittest

from dovetail_testlib import missing_prerequisite, requires

SOURCE = os.environ.get("DOVETAIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("DOVETAIL_BIN", "")
DATA = os.path.join(SOURCE, "tests", "data", "config")


def has_config_command():
    if not BIN or not os.access(BIN, os.X_OK):
        return False
    return subprocess.run([BIN, "config", "--help"], capture_output=True).returncode == 0


def run(*args, cwd=None):
    return subprocess.run([BIN, "config", *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def settings_lines(text):
    """The lines an admin diffs: everything but comments (headers, `# ignored by dovetail`)."""
    return [l for l in text.splitlines() if not l.startswith("#")]


@requires(has_config_command(), "DOVETAIL_BIN with a config command not available")
class ConfigGolden(unittest.TestCase):
    def test_golden_outputs(self):
        goldens = sorted(glob.glob(os.path.join(DATA, "*.golden")))
        self.assertTrue(goldens)
        for golden in goldens:
            conf = golden[: -len(".golden")] + ".conf"
            with self.subTest(config=os.path.basename(conf)):
                res = run("-n", "-c", conf)
                self.assertEqual(res.returncode, 0, res.stderr)
                first, _, rest = res.stdout.partition("\n")
                self.assertTrue(first.startswith("# dovetail ") and first.endswith(": " + conf), first)
                with open(golden) as f:
                    self.assertEqual(rest, f.read())

    def test_default_scope_is_n(self):
        conf = os.path.join(DATA, "seed.conf")
        self.assertEqual(run("-c", conf).stdout, run("-n", "-c", conf).stdout)

    def test_ignored_keys_listed_as_comments(self):
        out = run("-n", "-c", os.path.join(DATA, "virtual.conf")).stdout
        self.assertIn("# ignored by dovetail: imap_idle_notify_interval\n", out)
        self.assertIn("# ignored by dovetail: service/imap-login\n", out)

    def test_ignored_list_is_exactly_what_is_not_acted_on(self):
        """Parsed-but-not-acted-on keys are listed; keys Dovetail uses (listen) are not."""
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "d.conf")
            with open(conf, "w") as f:
                f.write("listen = 127.0.0.1\nprotocols = lmtp\nlmtp_proxy = yes\n"
                        "lmtp_rcpt_check_quota = yes\nlogin_trusted_networks = 10.0.0.0/8\n"
                        "lmtp_client_workarounds = whitespace-before-path\nstate_dir = /var/lib/x\n"
                        "ssl = no\nservice lmtp {\n  process_min_avail = 2\n  idle_kill = 1 mins\n"
                        "  executable = lmtp -L\n}\n")
            res = run("-n", "-c", conf)
            self.assertEqual(res.returncode, 0, res.stderr)
            ignored = [l[len("# ignored by dovetail: "):] for l in res.stdout.splitlines()
                       if l.startswith("# ignored by dovetail: ")]
            self.assertEqual(ignored, ["lmtp_rcpt_check_quota", "login_trusted_networks",
                                       "lmtp_client_workarounds", "state_dir", "ssl",
                                       "service/lmtp/process_min_avail", "service/lmtp/idle_kill"])
            # lmtp_proxy = yes only defers: one warning on stderr, with file:line
            self.assertEqual(res.stderr, f"Warning: {conf}:3: lmtp_proxy = yes: proxying is not "
                                         "implemented yet; a recipient whose passdb answer has proxy=y "
                                         "gets 451 4.3.0 (the MTA retries), all others are delivered "
                                         "locally\n")

    def test_secrets_hidden_unless_P(self):
        conf = os.path.join(DATA, "secrets.conf")
        hidden = run("-c", conf).stdout
        self.assertIn("doveadm_password = # hidden, use -P to show it\n", hidden)
        self.assertIn("password=#hidden_use-P_to_show# user=q", hidden)
        self.assertNotIn("topsecret", hidden)
        self.assertNotIn("hunter2", hidden)
        shown = run("-P", "-c", conf).stdout
        self.assertIn("doveadm_password = topsecret\n", shown)
        self.assertIn("password=hunter2 user=q", shown)

    def test_h_prints_one_value(self):
        conf = os.path.join(DATA, "virtual.conf")
        cases = [
            ("mail_location", "maildir:/var/vmail/%d/%n/Maildir"),
            ("service/lmtp/process_min_avail", "4"),
            ("plugin/quota_rule", "*:storage=1G"),
            ("lmtp_max_mail_size", "64 M"),  # a default
            ("recipient_delimiter", "+"),
        ]
        for key, want in cases:
            with self.subTest(key=key):
                res = run("-c", conf, "-h", key)
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertEqual(res.stdout, want + "\n")
        res = run("-c", conf, "-h", "no_such_key")
        self.assertEqual(res.returncode, 64)
        self.assertIn("Unknown setting: no_such_key", res.stderr)

    def test_a_prints_defaults_too(self):
        out = run("-a", "-c", os.path.join(DATA, "seed.conf")).stdout
        self.assertIn("mail_fsync = optimized\n", out)
        self.assertIn("lmtp_max_recipients = 10000\n", out)
        self.assertIn("service lmtp {\n", out)

    def test_embedded_default_when_no_file(self):
        if os.path.exists("/etc/dovetail/dovetail.conf"):
            self.skipTest("/etc/dovetail/dovetail.conf exists")
        res = run()
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("<embedded default>", res.stdout.splitlines()[0])
        self.assertIn("    port = 2424\n", res.stdout)
        self.assertIn("protocols = lmtp\n", res.stdout)


@requires(has_config_command(), "DOVETAIL_BIN with a config command not available")
class ConfigExitCodes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dovetail-config-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_usage_errors_exit_64(self):
        for args in (["--bogus"], ["-n", "-a"], ["-c"], ["-h"], ["extra-arg"]):
            with self.subTest(args=args):
                self.assertEqual(run(*args).returncode, 64)

    def test_config_errors_exit_78_with_file_line(self):
        cases = [
            ("unknown.conf", "hostname = a\nsql_password = x\n", "unknown.conf:2: Unknown setting: sql_password"),
            ("brace.conf", "service lmtp {\n  user = x\n", "brace.conf:1: Missing '}'"),
            ("bool.conf", "\nmail_debug = maybe\n", "bool.conf:2: Invalid boolean value: maybe (use yes or no)"),
        ]
        for name, text, message in cases:
            with self.subTest(name=name):
                path = self.write(name, text)
                res = run("-c", path)
                self.assertEqual(res.returncode, 78)
                self.assertEqual(res.stderr, f"{path[: -len(name)]}{message}\n")
                self.assertEqual(res.stdout, "")
        res = run("-c", os.path.join(self.tmp, "missing.conf"))
        self.assertEqual(res.returncode, 78)
        self.assertIn("missing.conf:0: Can't open file", res.stderr)

    def test_include_cycle_exit_78(self):
        self.write("a.conf", "!include b.conf\n")
        self.write("b.conf", "!include a.conf\n")
        res = run("-c", os.path.join(self.tmp, "a.conf"))
        self.assertEqual(res.returncode, 78)
        self.assertIn("Recursive include file", res.stderr)


def dovetail(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def subcommands():
    """The subcommands `dovetail --help` lists (CLI11: an indented name under SUBCOMMANDS)."""
    out = dovetail("--help").stdout
    names, inside = [], False
    for line in out.splitlines():
        if re.match(r"^\s*subcommands:\s*$", line, re.I):
            inside = True
        elif inside and re.match(r"^\s+\S", line):
            names.append(line.split()[0])
        elif inside and line.strip():
            inside = False
    return names


@requires(BIN and os.access(BIN, os.X_OK), "DOVETAIL_BIN not available")
class CliExitCodes(unittest.TestCase):
    """The whole binary's command line: 64 (EX_USAGE) for usage errors, 0 for help/version."""

    def test_table(self):
        cases = [
            ([], 64),
            (["bogus"], 64),
            (["serve", "--bogus"], 64),
            (["serve", "-c"], 64),
            (["version", "extra"], 64),
            (["config", "--bogus"], 64),
            (["deliver", "--bogus"], 64),
            (["version"], 0),
            (["--help"], 0),
        ]
        for args, want in cases:
            with self.subTest(args=args):
                res = dovetail(*args)
                self.assertEqual(res.returncode, want, res.stdout + res.stderr)
                if want == 64:
                    self.assertTrue(res.stderr, "a usage error says what is wrong on stderr")
        self.assertRegex(dovetail("version").stdout, r"^dovetail \S+\n$")

    def test_every_subcommand_help_exits_0(self):
        names = subcommands()
        for required in ("serve", "deliver", "config", "version"):
            self.assertIn(required, names)
        for name in names:
            with self.subTest(subcommand=name):
                res = dovetail(name, "--help")
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertIn(name, res.stdout)


def doveconf():
    return shutil.which("doveconf") or (os.access("/usr/bin/doveconf", os.X_OK) and "/usr/bin/doveconf")


@requires(has_config_command() and doveconf(), "needs dovetail and Dovecot's doveconf")
class ConfigDifferential(unittest.TestCase):
    """`dovetail config -n` must match `doveconf -n` key for key (comments aside)."""

    def compare(self, conf):
        theirs = subprocess.run([doveconf(), "-n", "-c", conf], capture_output=True, text=True, timeout=60)
        self.assertEqual(theirs.returncode, 0, theirs.stderr)
        ours = run("-n", "-c", conf)
        self.assertEqual(ours.returncode, 0, ours.stderr)
        self.assertEqual(settings_lines(ours.stdout), settings_lines(theirs.stdout))

    def test_data_configs(self):
        for conf in sorted(glob.glob(os.path.join(DATA, "*.conf"))):
            with self.subTest(config=os.path.basename(conf)):
                self.compare(conf)

    def test_debian_stock_config(self):
        if not os.path.exists("/etc/dovecot/dovecot.conf"):
            raise missing_prerequisite("dovecot-core not installed")
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree("/etc/dovecot", os.path.join(tmp, "dovecot"), symlinks=True)
            self.compare(os.path.join(tmp, "dovecot", "dovecot.conf"))

    def test_snippets(self):
        snippets = [
            "mail_max_lock_timeout = 90s\nmdbox_rotate_size = 2048k\nfirst_valid_uid = 0500\nmail_debug = no\n",
            "protocols = $protocols lmtp\nhostname = \"a b \"\nlogin_greeting = x#y\n",
            "service lmtp {\n  unix_listener lmtp {\n    mode = 0600\n  }\n  inet_listener lmtp {\n    port = 24\n  }\n}\n",
            "local 10.0.0.0/8 {\n  remote 192.168.0.0/16 {\n    protocol lmtp {\n      hostname = x\n    }\n  }\n}\n"
            "protocol lmtp {\n  recipient_delimiter = -\n}\nremote 1.2.3.4 {\n  lmtp_proxy = yes\n}\n",
        ]
        with tempfile.TemporaryDirectory() as tmp:
            for i, text in enumerate(snippets):
                with self.subTest(snippet=i):
                    path = os.path.join(tmp, f"s{i}.conf")
                    with open(path, "w") as f:
                        f.write(text)
                    self.compare(path)


if __name__ == "__main__":
    unittest.main()
