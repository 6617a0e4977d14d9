"""COMPAT.md local-delivery transcripts: reply lines, ids, and the exact Maildir files
(name `<secs>.M<usecs>P<pid>.<host>,S=<size>,W=<vsize>`, LF endings, added trace headers,
Delivered-To/`for` only with one recipient, hard links, Subaddress folders)."""

import os
import pwd
import re
import time
import smtplib
import unittest
import uuid

from dovetail_testlib import (LHLO_NAME, MAIL_USER, ServerTestCase, Setup, all_messages,
                              assert_maildir_name, count_files, is_dovetail, lf, list_mail,
                              make_message, normalise_date, pick, run_script, trace_headers)

SENDER = "sender@remote.example"
MAIL = f"MAIL FROM:<{SENDER}>"
OK_MAIL = ["250 2.1.0 OK"]
OK_RCPT = ["250 2.1.5 OK"]
ALICE = "alice@test.example"


def token():
    return "tok-" + uuid.uuid4().hex[:12]


class DeliveryBase(ServerTestCase):

    def setUp(self):
        self.clear_mail()

    def find(self, user, tok, folder=""):
        """The files in user's folder/new whose bytes contain tok."""
        return [m for m in list_mail(self.server.maildir(user, folder)) if tok.encode() in m.data]

    def only_file(self, user, tok, folder=""):
        found = self.find(user, tok, folder)
        self.assertEqual(len(found), 1, f"copies of {tok} in {user} {folder or 'INBOX'}/new: "
                                        f"{[m.path.name for m in found]}")
        assert_maildir_name(self, found[0])
        return found[0]

    def assert_file(self, mail, expected_text: str):
        got = normalise_date(mail.data.decode("utf-8", "replace"))
        self.assertEqual(got, expected_text, f"content of {mail.path}")

    def deliver_one(self, c, rcpt, message, rcpt_params=""):
        return run_script(self, c, [
            (MAIL, OK_MAIL),
            (f"RCPT TO:<{rcpt}>{rcpt_params}", OK_RCPT),
            ("DATA", ["354 OK"]),
        ], f"deliver to {rcpt}")


class LocalDelivery(DeliveryBase):

    def test_single_recipient_file_on_every_endpoint(self):
        for where, peer in (("tcp", "127.0.0.1"), ("tcp6", "::1"), ("unix", None)):
            if getattr(self.ep, where) is None:
                continue
            with self.subTest(endpoint=where):
                tok = token()
                msg = make_message(tok)
                c = self.connect(where)
                c.lhlo()
                self.deliver_one(c, ALICE, msg)
                c.send(msg + b".\r\n")
                (rid,) = run_script(self, c, [(None, [f"250 2.0.0 <{ALICE}> <SID> Saved"])],
                                    where)
                mail = self.only_file(ALICE, tok)
                self.assert_file(mail, trace_headers(SENDER, rid, ALICE, peer, ALICE)
                                 + lf(msg).decode())
                md = self.server.maildir(ALICE)
                for d in (md, md / "new", md / "cur", md / "tmp"):
                    self.assertEqual(os.stat(d).st_mode & 0o777, 0o700, f"mode of {d}")

    def test_reply_echoes_recipient_as_written_and_logs_saved_mail(self):
        """COMPAT 6 and 20: `<ALICE@test.example>` is echoed as written, a quoted local part
        is normalised; info_log_path gets `lmtp(<user>)<pid><id>: Info: msgid=<...>: saved
        mail to INBOX`."""
        c = self.connect()
        c.lhlo()
        ids = run_script(self, c, [
            (MAIL, OK_MAIL), ("RCPT TO:<ALICE@test.example>", OK_RCPT),
            ('RCPT TO:<"bob"@test.example>', OK_RCPT), ("DATA", ["354 OK"]),
            (make_message(token()) + b".\r\n", ["250 2.0.0 <ALICE@test.example> <SID> Saved",
                                                 "250 2.0.0 <bob@test.example> <SID>:R2 Saved"])],
            "echo")
        log = self.server.work.log_dir / "info.log"
        want = [rf"lmtp\(alice@test\.example\)<[0-9]+><{re.escape(ids[0])}>: Info: "
                r"msgid=<fixed-1@remote\.example>: saved mail to INBOX$",
                rf"lmtp\(bob@test\.example\)<[0-9]+><{re.escape(ids[1])}:R2>: Info: "
                r"msgid=<fixed-1@remote\.example>: saved mail to INBOX$"]
        deadline = time.monotonic() + 10
        text = ""
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace") if log.exists() else ""
            if all(re.search(w, text, re.M) for w in want):
                break
            time.sleep(0.2)
        for w in want:
            self.assertRegex(text, re.compile(w, re.M), f"{log}")

    def test_empty_message_null_sender(self):
        c = self.connect()
        c.lhlo()
        run_script(self, c, [("MAIL FROM:<>", OK_MAIL), (f"RCPT TO:<{ALICE}>", OK_RCPT),
                             ("DATA", ["354 OK"])], "empty")
        (rid,) = run_script(self, c, [(b".\r\n", [f"250 2.0.0 <{ALICE}> <SID> Saved"])], "empty")
        files = list_mail(self.server.maildir(ALICE))
        self.assertEqual(len(files), 1)
        assert_maildir_name(self, files[0])
        self.assert_file(files[0], trace_headers("", rid, ALICE, "127.0.0.1", ALICE))

    def test_multi_recipient_failure_duplicates_and_hard_links(self):
        tok = token()
        msg = make_message(tok)
        c = self.connect()
        c.lhlo()
        ids = run_script(self, c, [
            (MAIL, OK_MAIL),
            (f"RCPT TO:<{ALICE}>", OK_RCPT),
            ("RCPT TO:<nobody@test.example>",
             ["550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example"]),
            ("RCPT TO:<erin@test.example>", OK_RCPT),
            ("RCPT TO:<bob@test.example>", OK_RCPT),
            (f"RCPT TO:<{ALICE}>", OK_RCPT),
            ("RCPT TO:<alice+Sub@test.example>", OK_RCPT),
            ("DATA", ["354 OK"]),
            (msg + b".\r\n", [
                f"250 2.0.0 <{ALICE}> <SID> Saved",
                "451 4.2.0 <erin@test.example> Internal error occurred. Refer to server log "
                "for more information. <TIMESTAMP>",
                "250 2.0.0 <bob@test.example> <SID>:R4 Saved",
                f"250 2.0.0 <{ALICE}> <SID> Saved",
                "250 2.0.0 <alice+Sub@test.example> <SID>:R6 Saved"]),
        ], "multi-recipient")
        sid = ids[0]
        self.assertEqual(ids, [sid] * 4, "one session id for all replies of the transaction")
        inbox = self.only_file(ALICE, tok)
        expected = trace_headers(SENDER, sid, None, "127.0.0.1") + lf(msg).decode()
        self.assert_file(inbox, expected)
        sub = self.only_file(ALICE, tok, ".Sub")
        self.assert_file(sub, expected)
        self.assertTrue((self.server.maildir(ALICE, ".Sub") / "maildirfolder").exists(),
                        ".Sub/maildirfolder")
        bob = self.only_file("bob@test.example", tok)
        self.assert_file(bob, expected)
        self.assertEqual({inbox.path.stat().st_ino, sub.path.stat().st_ino,
                          bob.path.stat().st_ino}.__len__(), 1,
                         "copies of one message for several recipients are hard links")
        erin = self.server.mail_root / "test.example" / "erin"
        self.assertTrue(erin.is_file(), "erin's trap must still be a plain file")
        # second transaction in the same session: id :T2, single recipient -> Delivered-To
        tok2 = token()
        msg2 = make_message(tok2)
        (rid2,) = run_script(self, c, [
            (MAIL, OK_MAIL), ("RCPT TO:<bob@test.example>", OK_RCPT), ("DATA", ["354 OK"]),
            (msg2 + b".\r\n", ["250 2.0.0 <bob@test.example> <SID>:T2 Saved"])], "T2")
        self.assertEqual(rid2, sid)
        self.assert_file(self.only_file("bob@test.example", tok2),
                         trace_headers(SENDER, sid + ":T2", "bob@test.example", "127.0.0.1",
                                       "bob@test.example") + lf(msg2).decode())

    def test_ids_in_later_transactions_count_transactions_and_recipients(self):
        c = self.connect()
        c.lhlo()
        for t in (1, 2):
            run_script(self, c, [(MAIL, OK_MAIL), (f"RCPT TO:<{ALICE}>", OK_RCPT),
                                 ("DATA", ["354 OK"]), (make_message(token()) + b".\r\n",
                                                        [f"250 2.0.0 <{ALICE}> <ID> Saved"])])
        ids = run_script(self, c, [
            (MAIL, OK_MAIL), ("RCPT TO:<nobody@test.example>", [
                "550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example"]),
            ("RCPT TO:<bob@test.example>", OK_RCPT), ("RCPT TO:<carol@test.example>", OK_RCPT),
            ("DATA", ["354 OK"]),
            (make_message(token()) + b".\r\n", ["250 2.0.0 <bob@test.example> <SID>:T3:R2 Saved",
                                                "250 2.0.0 <carol@test.example> <SID>:T3:R3 Saved"])],
            "T3")
        self.assertEqual(ids[0], ids[1])

    def test_received_id_is_the_transaction_id(self):
        """Reply ids carry `:R<n>` (RCPT count incl. rejected) and `:T<n>`; the Received
        header's id is the transaction's: the reply id without `:R<n>`."""
        c = self.connect()
        c.lhlo()
        for t, suffix in ((1, ""), (2, ":T2")):
            tok = token()
            msg = make_message(tok)
            (rid,) = run_script(self, c, [
                (MAIL, OK_MAIL),
                ("RCPT TO:<nobody@test.example>",
                 ["550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example"]),
                (f"RCPT TO:<{ALICE}>", OK_RCPT), ("DATA", ["354 OK"]),
                (msg + b".\r\n", [f"250 2.0.0 <{ALICE}> <SID>{suffix}:R2 Saved"])], f"T{t}")
            self.assert_file(self.only_file(ALICE, tok),
                             trace_headers(SENDER, rid + suffix, ALICE, "127.0.0.1", ALICE)
                             + lf(msg).decode())

    def test_bdat_stored(self):
        tok = token()
        chunk1 = f"Subject: {tok}\r\n\r\nfirst ".encode()
        chunk2 = b"chunk\r\n.leading dot kept\r\n"
        c = self.connect()
        c.lhlo()
        ids = run_script(self, c, [
            (MAIL, OK_MAIL), (f"RCPT TO:<{ALICE}>", OK_RCPT),
            ("RCPT TO:<bob@test.example>", OK_RCPT),
            (f"BDAT {len(chunk1)}\r\n".encode() + chunk1,
             [f"250 2.0.0 Added {len(chunk1)} octets"]),
            (f"BDAT {len(chunk2)} LAST\r\n".encode() + chunk2,
             [f"250 2.0.0 <{ALICE}> <SID> Saved", "250 2.0.0 <bob@test.example> <SID>:R2 Saved"]),
        ], "BDAT")
        expected = trace_headers(SENDER, ids[0], None, "127.0.0.1") + lf(chunk1 + chunk2).decode()
        a = self.only_file(ALICE, tok)
        b = self.only_file("bob@test.example", tok)
        self.assert_file(a, expected)
        self.assertEqual(a.path.stat().st_ino, b.path.stat().st_ino, "hard link")

    def test_bare_lf_and_lf_dot_lf_stored(self):
        c = self.connect()
        c.lhlo()
        self.deliver_one(c, ALICE, b"")
        (rid,) = run_script(self, c, [(b"Subject: lfdot\r\n\r\nbody\n.\nmore\r\n.\r\n",
                                       [f"250 2.0.0 <{ALICE}> <SID> Saved"])], "LF.LF")
        files = list_mail(self.server.maildir(ALICE))
        self.assertEqual(len(files), 1)
        assert_maildir_name(self, files[0])
        body = pick("Subject: lfdot\n\nbody\n", "Subject: lfdot\n\nbody\n.\nmore\n")
        self.assert_file(files[0], trace_headers(SENDER, rid, ALICE, "127.0.0.1", ALICE) + body)
        if not is_dovetail():
            self.assertEqual(files[0].name["size"], "297")
            self.assertEqual(files[0].name["vsize"], "307")

    def test_dot_unstuffing_nul_and_8bit_verbatim(self):
        tok = token()
        raw = (f"Subject: {tok}\r\n\r\n".encode() + b"..leading dot\r\n..\r\n"
               b"nul:\x00:end\r\n8bit:\xe4\xf6\xfc\xff\r\nutf8: J\xc3\xb6rg\r\n")
        c = self.connect()
        c.lhlo()
        self.deliver_one(c, ALICE, raw)
        (rid,) = run_script(self, c, [(raw + b".\r\n", [f"250 2.0.0 <{ALICE}> <SID> Saved"])],
                            "binary")
        mail = self.only_file(ALICE, tok)
        body = mail.data.split(b"\n\n", 1)[1]
        self.assertEqual(body, b".leading dot\n.\nnul:\x00:end\n8bit:\xe4\xf6\xfc\xff\n"
                               b"utf8: J\xc3\xb6rg\n")

    def test_200000_octet_line_in_data_is_stored(self):
        tok = token()
        line = b"z" * 200000
        msg = f"Subject: {tok}\r\n\r\n".encode() + line + b"\r\n"
        c = self.connect()
        c.lhlo()
        self.deliver_one(c, ALICE, msg)
        run_script(self, c, [(msg + b".\r\n", [f"250 2.0.0 <{ALICE}> <SID> Saved"])], "long")
        mail = self.only_file(ALICE, tok)
        self.assertTrue(mail.data.endswith(b"\n\n" + line + b"\n"))

    def test_disconnect_mid_data_and_mid_bdat_leaves_nothing(self):
        for how in ("DATA", "BDAT"):
            with self.subTest(how=how):
                c = self.connect()
                c.lhlo()
                run_script(self, c, [(MAIL, OK_MAIL), (f"RCPT TO:<{ALICE}>", OK_RCPT)])
                if how == "DATA":
                    run_script(self, c, [("DATA", ["354 OK"])])
                    c.send(b"Subject: partial\r\n\r\n" + b"x" * 100000 + b"\r\n")
                else:
                    run_script(self, c, [(b"BDAT 10\r\n0123456789", ["250 2.0.0 Added 10 octets"])])
                    c.send(b"BDAT 1000 LAST\r\npartial")
                c.close()
                # the server notices the EOF; a NOOP on a fresh connection orders us after it
                c2 = self.connect()
                run_script(self, c2, [("NOOP", ["250 2.0.0 OK"])])
                md = self.server.maildir(ALICE)
                for sub in ("new", "cur", "tmp"):
                    self.assertEqual(count_files(md, sub), 0, f"{how}: files in {sub}/")

    def test_smtplib_lmtp_client_tcp_and_unix(self):
        for where in ("tcp", "unix"):
            ep = getattr(self.ep, where)
            if ep is None:
                continue
            with self.subTest(endpoint=where):
                tok = token()
                if where == "tcp":
                    client = smtplib.LMTP(ep[0], ep[1], local_hostname=LHLO_NAME, timeout=30)
                else:
                    client = smtplib.LMTP(ep, local_hostname=LHLO_NAME, timeout=30)
                with client:
                    # smtplib.LMTP.sendmail reads one reply after DATA (fine for one
                    # recipient); for several, read the per-recipient replies ourselves.
                    self.assertEqual(client.sendmail(SENDER, [ALICE], make_message(tok)), {})
                    self.assertEqual(client.mail(SENDER), (250, b"2.1.0 OK"))
                    self.assertEqual(client.rcpt("bob@test.example"), (250, b"2.1.5 OK"))
                    self.assertEqual(client.rcpt("nobody@test.example"), (
                        550, b"5.1.1 <nobody@test.example> User doesn't exist: "
                             b"nobody@test.example"))
                    self.assertEqual(client.rcpt(ALICE), (250, b"2.1.5 OK"))
                    code, text = client.data(make_message(tok))
                    self.assertEqual(code, 250, text)
                    self.assertRegex(text.decode(), r"^2\.0\.0 <bob@test\.example> \S+ Saved$")
                    code, text = client.getreply()
                    self.assertEqual(code, 250, text)
                    self.assertRegex(text.decode(), r"^2\.0\.0 <alice@test\.example> \S+:R3 Saved$")
                self.assertEqual(len(self.find(ALICE, tok)), 2)
                self.only_file("bob@test.example", tok)


SUBADDRESS = [
    # (detail, reply's rcpt, folder or "" for INBOX)
    ("Lists", "alice+Lists@test.example", ".Lists"),
    ("INBOX", "alice+INBOX@test.example", ""),
    ("inbox", "alice+inbox@test.example", ""),
    ("", "alice+@test.example", ""),
    ("+x", "alice++x@test.example", ".+x"),
    ("a+b", "alice+a+b@test.example", ".a+b"),
    ("Dots.in.name", "alice+Dots.in.name@test.example", ".Dots.in.name"),
    ("&AOQ-", "alice+&AOQ-@test.example", ".&-AOQ-"),
    ("*", "alice+*@test.example", ".*"),
    ("%", "alice+%@test.example", ".%"),
    ("a%2fb", "alice+a%2fb@test.example", ".a%2fb"),
    ("../../evil", '"alice+../../evil"@test.example', ""),
    ("a/b", "alice+a/b@test.example", ""),
    ("..", '"alice+.."@test.example', ""),
    (".", '"alice+."@test.example', ""),
    ("x..y", '"alice+x..y"@test.example', ""),
    ("~root", "alice+~root@test.example", ""),
    (".hidden", "alice+.hidden@test.example", ""),
]


class Subaddress(DeliveryBase):

    def test_subaddress_folder_table(self):
        c = self.connect()
        c.lhlo()
        for detail, shown, folder in SUBADDRESS:
            with self.subTest(detail=detail):
                tok = token()
                msg = make_message(tok)
                rcpt = f"alice+{detail}@test.example"
                run_script(self, c, [
                    (MAIL, OK_MAIL), (f"RCPT TO:<{rcpt}>", OK_RCPT), ("DATA", ["354 OK"]),
                    (msg + b".\r\n", [f"250 2.0.0 <{shown}> <ID> Saved"])], rcpt)
                self.only_file(ALICE, tok, folder)
                everywhere = [p for p in all_messages(self.server.work.path)
                              if tok.encode() in p.read_bytes()]
                self.assertEqual(len(everywhere), 1, f"{rcpt}: copies anywhere: {everywhere}")
                if folder:
                    self.assertTrue((self.server.maildir(ALICE, folder) / "maildirfolder")
                                    .exists(), f"{folder}/maildirfolder")
        subs = self.server.maildir(ALICE) / "subscriptions"
        self.assertTrue(subs.exists(), "lda_mailbox_autosubscribe writes Maildir/subscriptions")
        self.assertIn("Lists", subs.read_text(errors="replace").split("\n"))


class NoAutocreate(DeliveryBase):
    """lda_mailbox_autocreate = no: a detail folder that exists gets the mail, a missing one
    falls back to INBOX (still 250), and nothing is created."""
    setup_config = Setup(autocreate=False)

    def test_existing_folder_or_inbox(self):
        pw = pwd.getpwnam(MAIL_USER)
        md = self.server.maildir(ALICE)
        # an existing folder, made the way Dovecot makes one (owned by the mail user)
        for d in (md.parent, md, md / "new", md / "cur", md / "tmp", md / ".Exists",
                  md / ".Exists" / "new", md / ".Exists" / "cur", md / ".Exists" / "tmp"):
            d.mkdir(mode=0o700, exist_ok=True)
            os.chown(d, pw.pw_uid, pw.pw_gid)
        (md / ".Exists" / "maildirfolder").touch()
        os.chown(md / ".Exists" / "maildirfolder", pw.pw_uid, pw.pw_gid)
        c = self.connect()
        c.lhlo()
        for detail, folder in (("Exists", ".Exists"), ("Missing", "")):
            tok = token()
            rcpt = f"alice+{detail}@test.example"
            run_script(self, c, [(MAIL, OK_MAIL), (f"RCPT TO:<{rcpt}>", OK_RCPT),
                                 ("DATA", ["354 OK"]),
                                 (make_message(tok) + b".\r\n", [f"250 2.0.0 <{rcpt}> <ID> Saved"])],
                       rcpt)
            self.only_file(ALICE, tok, folder)
        self.assertFalse((md / ".Missing").exists(), ".Missing must not be created")


class HdrDeliveryAddressOriginal(DeliveryBase):
    setup_config = Setup(extra_settings=["lmtp_hdr_delivery_address = original"])

    def test_orcpt_used_for_delivered_to_and_for(self):
        c = self.connect()
        c.lhlo()
        cases = [
            ("d", " ORCPT=rfc822;orcpt@else.example", "orcpt@else.example", "orcpt@else.example"),
            ("e", "", None, "alice+e@test.example"),
            ("f", " ORCPT=rfc822;orig+2Bx@remote.example", "orig+x@remote.example",
             "orig+x@remote.example"),
        ]
        for n, (folder, params, delivered_to, for_) in enumerate(cases, 1):
            with self.subTest(folder=folder):
                tok = token()
                msg = make_message(tok)
                rcpt = f"alice+{folder}@test.example"
                t = "" if n == 1 else f":T{n}"
                (rid,) = run_script(self, c, [
                    (MAIL, OK_MAIL), (f"RCPT TO:<{rcpt}>{params}", OK_RCPT),
                    ("DATA", ["354 OK"]),
                    (msg + b".\r\n", [f"250 2.0.0 <{rcpt}> <SID>{t} Saved"])], rcpt)
                self.assert_file(self.only_file(ALICE, tok, "." + folder),
                                 trace_headers(SENDER, rid + t, for_, "127.0.0.1", delivered_to)
                                 + lf(msg).decode())


class HdrDeliveryAddressNone(DeliveryBase):
    setup_config = Setup(extra_settings=["lmtp_hdr_delivery_address = none"])

    def test_no_delivered_to_no_for(self):
        c = self.connect()
        c.lhlo()
        for n, (folder, params) in enumerate(
                [("d", " ORCPT=rfc822;orcpt@else.example"), ("e", "")], 1):
            with self.subTest(folder=folder):
                tok = token()
                msg = make_message(tok)
                rcpt = f"alice+{folder}@test.example"
                t = "" if n == 1 else f":T{n}"
                (rid,) = run_script(self, c, [
                    (MAIL, OK_MAIL), (f"RCPT TO:<{rcpt}>{params}", OK_RCPT),
                    ("DATA", ["354 OK"]),
                    (msg + b".\r\n", [f"250 2.0.0 <{rcpt}> <SID>{t} Saved"])], rcpt)
                self.assert_file(self.only_file(ALICE, tok, "." + folder),
                                 trace_headers(SENDER, rid + t, None, "127.0.0.1", None)
                                 + lf(msg).decode())


if __name__ == "__main__":
    unittest.main()
