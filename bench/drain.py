#!/usr/bin/env python3
"""bench/drain.py - wait until a measurement's mail has been delivered.

Usage: drain.py MAILLOG OFFSET SINK_PORT WANT SPOOL IDLE_S MAX_S

Follows MAILLOG from byte OFFSET and counts deliveries to smtp-sink on
SINK_PORT (status=sent).  Stops when Postfix's queue under SPOOL is empty
and either WANT deliveries are there or none has come for IDLE_S seconds;
or after MAX_S seconds.  Prints "TLAST GOT": the time (seconds since the
epoch) the count last grew, or of the first look if it never did, and the
count.

The log is read once, a little at a time as it grows: the machine's CPU is
what the contenders share, and a wait that read the whole measurement's
log again at every look (several MB, twenty times a second) would take its
share from whichever contender has the longer tail of deliveries.
"""
import os
import re
import sys
import time

POLL = 0.05


def queue_empty(spool):
    """No message file in the queues a message passes through."""
    for q in ("incoming", "active", "deferred", "maildrop"):
        for _, _, files in os.walk(os.path.join(spool, q)):
            if files:
                return False
    return True


def main():
    if len(sys.argv) != 8:
        sys.exit("usage: drain.py MAILLOG OFFSET SINK_PORT WANT SPOOL IDLE_S MAX_S")
    log, pos, port, want, spool = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    idle, limit = float(sys.argv[6]), float(sys.argv[7])
    sent = re.compile(rb"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d,[^\n]* status=sent" % port)
    got, tlast = 0, None
    start = time.time()
    with open(log, "rb") as f:
        f.seek(pos)
        rest = b""
        while True:
            data = rest + f.read()
            cut = data.rfind(b"\n") + 1     # whole lines only; the rest waits for its end
            rest = data[cut:]
            n = len(sent.findall(data, 0, cut))
            now = time.time()
            if n or tlast is None:
                got += n
                tlast = now
            if queue_empty(spool) and (got >= want or now - tlast > idle):
                break
            if now - start > limit:
                break
            time.sleep(POLL)
    print("%.6f %d" % (tlast, got))


if __name__ == "__main__":
    main()
