"""The workloads of issue 6. procs = smtp-source processes (process P writes to userP, or all
to user1 when hot), sessions = parallel sessions per process, msgs = messages per measured run
(before --scale), size = body octets, rcpts = recipients per message.

The counts keep Dovetail's runs at one second or more on the 2026-12-03 machine: with 300
messages r10 ended in 0.24 s, and the fixed costs of a run (16 smtp-source processes
starting, connecting, the slowest one's tail) made Dovetail look 7.2x Dovecot where the
same load five times as long measured 9.2x (bench/run --scale 5, same hour)."""

WORKLOADS = {
    "s16": dict(desc="16 sessions × 4 KiB, 1 rcpt", procs=16, sessions=1, msgs=10000, size=4096, rcpts=1),
    "r10": dict(desc="16 sessions × 4 KiB, 10 rcpts", procs=16, sessions=1, msgs=1500, size=4096, rcpts=10),
    "s1": dict(desc="1 session × 4 KiB", procs=1, sessions=1, msgs=2000, size=4096, rcpts=1),
    # Not in issue 6's table: one list message at a time, the latency of a 10-directory sync.
    "l10": dict(desc="1 session × 4 KiB, 10 rcpts", procs=1, sessions=1, msgs=400, size=4096, rcpts=10),
    "big": dict(desc="4 sessions × 1 MiB", procs=4, sessions=1, msgs=300, size=1 << 20, rcpts=1),
    "c4": dict(desc="4 sessions × 4 KiB (sweep)", procs=4, sessions=1, msgs=5000, size=4096, rcpts=1),
    "c64": dict(desc="64 sessions × 4 KiB (sweep)", procs=16, sessions=4, msgs=10000, size=4096, rcpts=1),
    "hot": dict(desc="16 sessions × 4 KiB into ONE empty mailbox", procs=1, sessions=16, msgs=6000,
                size=4096, rcpts=1, hot=True),
    "full": dict(desc="16 sessions × 4 KiB into ONE mailbox holding 100,000 messages", procs=1, sessions=16,
                 msgs=6000, size=4096, rcpts=1, hot=True, prefill=100000),
    # Both servers get the same limits for this one: 100 processes × 101 clients (Dovecot's
    # meaning; Dovetail, one process, takes the product as its connection bound). The default
    # lmtp client_limit of 1 would cap both at 100 connections.
    "idle": dict(desc="10,000 idle connections, then 1 session × 4 KiB beside them", procs=1, sessions=1,
                 msgs=200, size=4096, rcpts=1, idle=10000,
                 lmtp_extra=("process_limit = 100", "client_limit = 101")),
}

# Sessions of each point of the concurrency sweep -> the workload that measures it.
SWEEP = [(1, "s1"), (4, "c4"), (16, "s16"), (64, "c64")]

FULL = ["s16", "r10", "l10", "s1", "big", "c4", "c64", "hot", "full", "idle"]
SMOKE = ["s16", "r10", "s1", "c64", "big", "idle"]
# Smoke mode: message counts and sizes small enough for a CI run of both servers.
SMOKE_OVERRIDES = {"msgs": 64, "big_size": 64 << 10, "idle": 200, "prefill": 1000}
