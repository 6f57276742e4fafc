#!/usr/bin/env python3
"""latency.py - from a non-member's SMTP DATA to the auto-reply in its Maildir.

Usage: latency.py PORT LIST SENDER MAILDIR_NEW N

Sends N reports, one at a time, from SENDER to LIST on 127.0.0.1:PORT.
For each: the clock starts when the DATA command is sent and stops when a
new file appears in MAILDIR_NEW (the reporter's Maildir/new, polled every
millisecond).  Prints the N latencies in milliseconds, comma-separated.
"""
import os
import smtplib
import sys
import time

BODY = """From: A reporter <{sender}>
To: {lst}
Subject: Report {i}: use after free in the session cache

The session cache frees an entry while a reader still holds it.
Reproducer attached on request.
"""


def count(d):
    try:
        return len(os.listdir(d))
    except FileNotFoundError:
        return 0


def main():
    port, lst, sender, maildir, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    out = []
    for i in range(n):
        before = count(maildir)
        s = smtplib.SMTP("127.0.0.1", int(port), local_hostname="client.test", timeout=60)
        s.ehlo()
        s.mail(sender)
        s.rcpt(lst)
        msg = BODY.format(sender=sender, lst=lst, i=i).replace("\n", "\r\n").encode()
        t0 = time.monotonic()
        code, _ = s.data(msg)
        s.quit()
        if code != 250:
            print("latency.py: message %d refused: %d" % (i, code), file=sys.stderr)
            return 1
        deadline = t0 + 60
        while count(maildir) <= before:
            if time.monotonic() > deadline:
                print("latency.py: no auto-reply for message %d after 60 s" % i, file=sys.stderr)
                return 1
            time.sleep(0.001)
        out.append("%.2f" % ((time.monotonic() - t0) * 1000))
    print(",".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
