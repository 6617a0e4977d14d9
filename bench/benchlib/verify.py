"""The no-loss check: every recipient-delivery sent is in its mailbox's new/ exactly once."""

import os
import re

from . import mailenv

MSGID = re.compile(rb"^Message-Id:\s*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


def snapshot(workdir, users):
    """{user: set of file names in new/} for the given users."""
    out = {}
    for u in users:
        d = os.path.join(mailenv.mailbox_dir(workdir, u), "new")
        try:
            out[u] = set(os.listdir(d))
        except FileNotFoundError:
            out[u] = set()
    return out


def tmp_leftovers(workdir):
    n = 0
    root = os.path.join(workdir, "mail")
    for dirpath, dirnames, files in os.walk(root):
        if os.path.basename(dirpath) == "tmp":
            n += len(files)
            dirnames[:] = []
        elif os.path.basename(dirpath) in ("new", "cur"):
            dirnames[:] = []
    return n


def _message_id(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        head = os.read(fd, 8192)
    finally:
        os.close(fd)
    m = MSGID.search(head.split(b"\n\n", 1)[0])
    return m.group(1) if m else None


def check(workdir, before, expected):
    """Compares new/ against `before` (a snapshot) and expected {user: count}.

    Returns (problems list, deliveries found). Loss shows as a short count, duplication as a
    Message-Id seen twice in one mailbox (smtp-source ids are unique per process and message)."""
    problems, found = [], 0
    after = snapshot(workdir, expected)
    for u, want in sorted(expected.items()):
        fresh = after[u] - before.get(u, set())
        found += len(fresh)
        if len(fresh) != want:
            problems.append(f"{u}: {len(fresh)} new files, expected {want}")
        ids = {}
        d = os.path.join(mailenv.mailbox_dir(workdir, u), "new")
        for name in fresh:
            mid = _message_id(os.path.join(d, name))
            if mid is None:
                problems.append(f"{u}: {name} has no Message-Id")
                continue
            if mid in ids:
                problems.append(f"{u}: {mid.decode(errors='replace')} delivered twice ({ids[mid]}, {name})")
            ids[mid] = name
    left = tmp_leftovers(workdir)
    if left:
        problems.append(f"{left} files left in */tmp")
    return problems, found
