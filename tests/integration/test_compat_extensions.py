"""COMPAT.md "Beyond Dovecot": SIZE (RFC 1870), DSN (RFC 3461) and SMTPUTF8 (RFC 6531).

Dovetail advertises and implements all three; Dovecot 2.3 advertises none and answers their
parameters with `555 5.5.4 Unsupported parameters`. Under the Dovecot oracle only the
Dovecot transcript runs (it proves the harness); the rest is Dovetail-only.
"""

import unittest
import uuid

from dovetail_testlib import (LHLO, SIZE_DEFAULT, ServerTestCase, count_files, dovetail_only,
                              is_dovetail, lf, list_mail, make_message, normalise_date,
                              run_script, trace_headers, received_header,
                              transaction_id)

S = "MAIL FROM:<sender@remote.example>"
OK_MAIL = ["250 2.1.0 OK"]
OK_RCPT = ["250 2.1.5 OK"]
OK = ["250 2.0.0 OK"]
UNSUPPORTED = ["555 5.5.4 Unsupported parameters"]
ALICE = "alice@test.example"


class Extensions(ServerTestCase):

    @unittest.skipIf(is_dovetail(), "records Dovecot's behaviour (runs under the oracle)")
    def test_dovecot_transcript(self):
        run_script(self, self.connect(), [
            (S + " SIZE=100", UNSUPPORTED),
            (S + " SIZE=10240001", UNSUPPORTED),
            (S + " RET=HDRS ENVID=abc", UNSUPPORTED),
            (S + " SMTPUTF8", UNSUPPORTED),
            (S, OK_MAIL),
            ("RCPT TO:<alice@test.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig@remote.example",
             UNSUPPORTED),
            ("RCPT TO:<alice@test.example> NOTIFY=NEVER", UNSUPPORTED),
            ("RCPT TO:<alice@test.example> NOTIFY=BOGUS", UNSUPPORTED),
            ("RCPT TO:<aläce@test.example>", ["501 5.5.4 Invalid TO: Missing '>' at end of path"]),
            ("RCPT TO:<jörg@test.example>", ["501 5.5.4 Invalid TO: Missing '>' at end of path"]),
            ("RCPT TO:<alice@test.example> ORCPT=rfc822;orig+2Bx@remote.example", OK_RCPT),
            ("RSET", OK),
        ], "Dovecot extensions")

    # ------------------------------------------------------------------ SIZE

    @dovetail_only("SIZE")
    def test_size_parameter(self):
        n = SIZE_DEFAULT
        run_script(self, self.connect(), [
            ("LHLO client.test.example", LHLO),
            (S + " SIZE=100", OK_MAIL), ("RSET", OK),
            (S + f" SIZE={n}", OK_MAIL), ("RSET", OK),
            (S + f" SIZE={n + 1}", ["552 5.3.4 …"]),
            (S + " FOO=BAR", UNSUPPORTED),
            (S, OK_MAIL),
            ("RCPT TO:<alice@test.example>", OK_RCPT),
            ("RSET", OK),
        ], "SIZE")

    def _oversize(self, use_bdat: bool):
        self.clear_mail()
        c = self.connect()
        c.lhlo()
        run_script(self, c, [(S, OK_MAIL), ("RCPT TO:<alice@test.example>", OK_RCPT),
                             ("RCPT TO:<bob@test.example>", OK_RCPT)], "oversize")
        head = b"Subject: big\r\n\r\n"
        line = b"x" * 1022 + b"\r\n"
        total = SIZE_DEFAULT + 1
        body = head + line * ((total - len(head)) // len(line))
        body += b"y" * (total - len(body) - 2) + b"\r\n"
        self.assertEqual(len(body), total)
        if use_bdat:
            c.send(f"BDAT {total} LAST\r\n".encode())
            c.sock.sendall(body)
        else:
            run_script(self, c, [("DATA", ["354 OK"])])
            c.sock.sendall(body + b".\r\n")
        run_script(self, c, [(None, ["552 5.3.4 …", "552 5.3.4 …"]), ("NOOP", OK)], "oversize")
        for user in (ALICE, "bob@test.example"):
            md = self.server.maildir(user)
            for sub in ("new", "cur", "tmp"):
                self.assertEqual(count_files(md, sub), 0, f"{user} {sub}/ after 552")

    @dovetail_only("SIZE")
    def test_body_over_size_limit_data(self):
        self._oversize(use_bdat=False)

    @dovetail_only("SIZE")
    def test_body_over_size_limit_bdat(self):
        self._oversize(use_bdat=True)

    @dovetail_only("SIZE default 64 MiB")
    def test_20_mib_message_goes_through_by_default(self):
        self.clear_mail()
        tok = uuid.uuid4().hex
        body = (f"Subject: {tok}\r\n\r\n".encode()
                + (b"z" * 998 + b"\r\n") * (20 * 1024 * 1024 // 1000))
        c = self.connect()
        c.lhlo()
        run_script(self, c, [(S + f" SIZE={len(body)}", OK_MAIL),
                             ("RCPT TO:<alice@test.example>", OK_RCPT), ("DATA", ["354 OK"])])
        c.sock.sendall(body + b".\r\n")
        run_script(self, c, [(None, ["250 2.0.0 <alice@test.example> <SID> Saved"])], "20 MiB")
        (m,) = list_mail(self.server.maildir(ALICE))
        self.assertTrue(m.data.endswith(lf(body)))

    # ------------------------------------------------------------------ DSN

    @dovetail_only("DSN")
    def test_dsn_parameters(self):
        run_script(self, self.connect(), [
            ("LHLO client.test.example", LHLO),
            (S + " RET=HDRS ENVID=abc", OK_MAIL),
            ("RCPT TO:<alice@test.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig@remote.example",
             OK_RCPT),
            ("RCPT TO:<bob@test.example> NOTIFY=NEVER", OK_RCPT),
            ("RCPT TO:<carol@test.example> NOTIFY=BOGUS", ["501 5.5.4 …"]),
            ("RSET", OK),
        ], "DSN")

    # ------------------------------------------------------------------ SMTPUTF8

    @dovetail_only("SMTPUTF8")
    def test_smtputf8(self):
        self.clear_mail()
        c = self.connect()
        c.lhlo()
        run_script(self, c, [
            (S, OK_MAIL),
            ("RCPT TO:<jörg@test.example>", ["553 5.6.7 …"]),
            ("RCPT TO:<aläce@test.example>", ["553 5.6.7 …"]),
            ("RSET", OK),
            (S + " SMTPUTF8", OK_MAIL),
            ("RCPT TO:<aläce@test.example>",
             ["550 5.1.1 <aläce@test.example> User doesn't exist: aläce@test.example"]),
            ("RCPT TO:<jörg@test.example>", OK_RCPT),
            ("DATA", ["354 OK"]),
        ], "SMTPUTF8")
        msg = make_message("utf8 " + uuid.uuid4().hex)
        (rid,) = run_script(self, c, [(msg + b".\r\n",
                                       ["250 2.0.0 <jörg@test.example> <ID> Saved"])])
        md = self.server.maildir("jörg@test.example")
        (m,) = list_mail(md)
        text = normalise_date(m.data.decode())
        self.assertIn("Delivered-To: jörg@test.example\n", text)
        rid = transaction_id(rid)
        plain = received_header("sender@remote.example", rid, "jörg@test.example", "127.0.0.1")
        utf8 = received_header("sender@remote.example", rid, "jörg@test.example", "127.0.0.1",
                               utf8=True)
        self.assertTrue(plain in text or utf8 in text, f"Received header in\n{text}")
        self.assertEqual(count_files(self.server.maildir(ALICE), "new"), 0)


class DsnOriginalRecipient(ServerTestCase):
    """ORCPT (xtext-decoded) feeds lmtp_hdr_delivery_address = original, with NOTIFY too."""
    from dovetail_testlib import Setup as _Setup
    setup_config = _Setup(extra_settings=["lmtp_hdr_delivery_address = original"])

    @dovetail_only("DSN")
    def test_orcpt_with_notify(self):
        self.clear_mail()
        c = self.connect()
        c.lhlo()
        msg = make_message("dsn " + uuid.uuid4().hex)
        (rid,) = run_script(self, c, [
            (S + " RET=HDRS ENVID=abc", OK_MAIL),
            ("RCPT TO:<alice+f@test.example> NOTIFY=SUCCESS,FAILURE "
             "ORCPT=rfc822;orig+2Bx@remote.example", OK_RCPT),
            ("DATA", ["354 OK"]),
            (msg + b".\r\n", ["250 2.0.0 <alice+f@test.example> <SID> Saved"])], "ORCPT")
        (m,) = list_mail(self.server.maildir(ALICE, ".f"))
        self.assertEqual(normalise_date(m.data.decode()),
                         trace_headers("sender@remote.example", rid, "orig+x@remote.example",
                                       "127.0.0.1", "orig+x@remote.example")
                         + lf(msg).decode())


if __name__ == "__main__":
    unittest.main()
