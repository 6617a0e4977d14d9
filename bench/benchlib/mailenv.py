"""One Dovecot-syntax config + passwd-file per server instance, read by BOTH servers.

Dovetail reads Dovecot 2.3 configs, so the only difference between the two servers under
test is the binary: same users, same mail_location, same (default) durability settings.
Users: userP@example.test and KuserP@example.test (P = 1..16, K = 2..10), the names
`smtp-source -r R -t userP@D` produces (it prepends R..2, then sends the plain address).
"""

import os
import pwd
import subprocess
import time

DOMAIN = "example.test"
USERS = 16
RCPT_MAX = 10
MAIL_USER = "vmail"


def ensure_mail_user():
    """uid/gid of the unprivileged system user that owns every mailbox (created if missing)."""
    try:
        pw = pwd.getpwnam(MAIL_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--home-dir", "/nonexistent",
                        "--no-create-home", "--shell", "/usr/sbin/nologin", MAIL_USER], check=True)
        pw = pwd.getpwnam(MAIL_USER)
    return pw.pw_uid, pw.pw_gid


def user_names():
    for p in range(1, USERS + 1):
        yield f"user{p}"
        for k in range(2, RCPT_MAX + 1):
            yield f"{k}user{p}"


def mailbox_dir(workdir, user):
    """The Maildir of one user (what mail_location = maildir:~/Maildir resolves to)."""
    return os.path.join(workdir, "mail", DOMAIN, user, "Maildir")


def write_config(workdir, port, lmtp_extra=()):
    """Writes workdir/{dovecot.conf,users.passwd} and the empty mail root; returns the conf path.

    lmtp_extra: extra lines inside `service lmtp { }` (same for both servers)."""
    uid, gid = ensure_mail_user()
    for d in ("run", "state", "log", "tmp", "mail"):
        os.makedirs(os.path.join(workdir, d), exist_ok=True)
    os.chown(os.path.join(workdir, "mail"), uid, gid)
    os.chown(os.path.join(workdir, "tmp"), uid, gid)
    os.chmod(os.path.join(workdir, "mail"), 0o700)
    passwd = os.path.join(workdir, "users.passwd")
    with open(passwd, "w") as f:
        for u in user_names():
            home = os.path.join(workdir, "mail", DOMAIN, u)
            f.write(f"{u}@{DOMAIN}:{{PLAIN}}bench:{uid}:{gid}::{home}::\n")
    extra = "".join(f"  {line}\n" for line in lmtp_extra)
    conf = os.path.join(workdir, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""# written by bench/run {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}
# Durability stays at Dovecot's defaults (mail_fsync = optimized); only paths, the
# listener and logging differ from a stock install.
instance_name = bench-{port}
base_dir = {workdir}/run
state_dir = {workdir}/state
protocols = lmtp
listen = 127.0.0.1
ssl = no
log_path = {workdir}/log/server.log
info_log_path = {workdir}/log/info.log
mail_temp_dir = {workdir}/tmp
first_valid_uid = {uid}

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
mail_location = maildir:~/Maildir

service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
{extra}}}
""")
    return conf


def prefill(maildir, count, seed_dir):
    """Puts `count` messages into maildir/cur as hard links to a few seed files.

    Hard links cost one directory entry each and free no inode when removed, so they neither
    take long to make nor set off ext4's "recently deleted inode" slowdown. The seed files
    live in seed_dir (one per mailbox: the run's work dir, kept until the very end). ext4 caps links per inode
    at 65000, hence one seed per 50000 links."""
    uid, gid = ensure_mail_user()
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    for d in (maildir, os.path.dirname(maildir)):
        os.chown(d, uid, gid)
    for sub in ("cur", "new", "tmp"):
        os.chown(os.path.join(maildir, sub), uid, gid)
    os.makedirs(seed_dir, exist_ok=True)
    body = ("From: seed@example.test\nTo: user1@example.test\nSubject: old mail\n\n"
            + "x" * 60 + "\n") * 1
    seeds = []
    for i in range((count + 49999) // 50000):
        p = os.path.join(seed_dir, f"seed{i}")
        if not os.path.exists(p):
            with open(p, "w") as f:
                f.write(body)
        seeds.append(p)
    cur = os.path.join(maildir, "cur")
    base = int(time.time()) - 86400
    size = len(body)
    for i in range(count):
        os.link(seeds[i // 50000], os.path.join(cur, f"{base}.M{i}P1.prefill,S={size},W={size + 5}:2,S"))
    uidp = os.path.join(maildir, "cur")
    os.chown(uidp, uid, gid)
