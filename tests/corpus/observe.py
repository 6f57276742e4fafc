#!/usr/bin/env python3
# tests/corpus/observe.py - what one run of vigil-filter left behind, as a
# moderator, a reporter and a postmaster would look at it.
#
#   observe.py --conf FILE --vigil PATH --base FILE --exit N --stdout FILE
#              --stderr FILE --sender ADDR [--report ID=NAME ...]
#
# --base names a file of "table max-id" lines: the rows the database had
# before the run (everything above is what the message caused).  Prints
# one "key: value" line per observation; hostile.test compares them with
# the message's .expect file:
#
#   exit         the filter's exit status, as Postfix's pipe(8) sees it
#   crash        none, or the signal / sanitizer or GLib report on stderr
#   outcome      what the message became, words sorted and joined by "+":
#                held, relayed (a post of that status), bounce (stored for
#                the bounce address), forwarded (to recipients that are
#                not lists), join, join-refused, join-ignored (what a
#                message to the list's join address did),
#                rejected (status 69, nothing stored), tempfail (status
#                75, nothing stored); "dropped" is status 0 with nothing
#                stored at all, "partial" a failure status after something
#                was stored: both are defects
#   posts        how many posts (held or relayed) it made
#   held-reason  the reasons "vigil held --json" gives, sorted
#   autoreply    yes when an auto-reply to the envelope sender is queued
#   relay-rcpts  the recipients of the members' copy, sorted
#   thread       the report thread a new post joined (by --report name), or none
#   bounces      rows "vigil bounces --json" gained; bounce-addresses,
#                bounce-failed (how many permanent) and bounce-report (the
#                owner told of a member whose address keeps failing)
#   held-from, held-subject  of the held post, as "vigil held --json" has them
#   terminal     clean, or what of the mail reached the moderator's terminal
#                raw through vigil held, show, log or bounces, or which of
#                these commands failed
#   composed     clean, or what is wrong with the mail vigil composed: a
#                header the post injected, the post quoted in the auto-reply,
#                an auto-reply to anyone but the envelope sender, a members'
#                copy without the loop marker, a held post the moderators
#                were not told of
#   stdout       the filter's first line on stdout (the reason Postfix logs)
import argparse
import email
import email.policy
import json
import re
import sqlite3
import subprocess
import sys

LIST = "security@example.org"
BOUNCE = "security-bounces@example.org"
SECRET = "CORPUS-SECRET"
INJECTED = re.compile(rb"^(x-injected|bcc)\s*:", re.I | re.M)
# what must never reach a terminal raw: C0 controls but tab and newline,
# DEL, C1 controls and the Unicode bidirectional controls
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# what a sanitizer or GLib prints when something is wrong
REPORTS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer",
           "-CRITICAL **", "-WARNING **", "-ERROR **")


def report_in(err):
    """the line of err that reports a sanitizer or GLib finding, or None"""
    for pat in REPORTS:
        i = err.find(pat)
        if i >= 0:
            return err[err.rfind("\n", 0, i) + 1:].split("\n", 1)[0][:200]
    return None


class Cli:
    """the vigil command on the run's configuration; a status other than
    0, or a sanitizer report, is a finding of what the moderator sees"""

    def __init__(self, args):
        self.args = args
        self.failures = []

    def __call__(self, *rest):
        p = subprocess.run([self.args.vigil, "-c", self.args.conf, *rest], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, check=False)
        err = p.stderr.decode("utf-8", "replace")
        found = report_in(err)
        if p.returncode != 0 or found:
            self.failures.append("vigil %s: status %d: %s" % (" ".join(rest), p.returncode,
                                                              found or err.strip()[:200]))
        return p.stdout


def crash_of(args):
    """none, or the first sign of a crash"""
    if args.exit < 0 or args.exit >= 128:
        return "signal %d" % (args.exit - 128 if args.exit >= 128 else -args.exit)
    found = report_in(open(args.stderr, "rb").read().decode("utf-8", "replace"))
    return "stderr: " + found if found else "none"


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def canonical(addr):
    """vigil's canonical form of an address: ASCII letters in lower case,
    the domain in A-label form (None when Python cannot convert it)"""
    local, _, domain = addr.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return (local + "@" + domain).translate(ASCII_LOWER)


def terminal_check(name, out, problems):
    """out, bytes a moderator's terminal gets, has nothing raw in it"""
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError as e:
        problems.append("%s: not UTF-8 at byte %d" % (name, e.start))
        return
    m = RAW.search(text)
    if m:
        problems.append("%s: raw U+%04X at %d" % (name, ord(m.group()), m.start()))


def header_block(data):
    """the header section of a composed message, bytes"""
    end = data.find(b"\r\n\r\n")
    return data[:end + 2] if end >= 0 else data


def composed_check(kind, row, data, sender, problems):
    """one outgoing message vigil wrote from the post's facts"""
    head = header_block(data)
    if kind in ("relay", "forward"):
        # the post itself, below the fields vigil adds on top
        if kind == "relay" and not re.search(rb"^X-Loop: " + LIST.encode() + rb"\r$", head, re.M):
            problems.append("relay: the members' copy has no X-Loop marker")
        return
    # what vigil writes: CRLF everywhere, no bare CR or LF that would
    # split a field, every line a field or a continuation
    if re.search(rb"\r(?!\n)|(?<!\r)\n", head):
        problems.append("%s: bare CR or LF in its header" % kind)
    for line in head.split(b"\r\n"):
        if line and not re.match(rb"^([!-9;-~]+:|[ \t])", line):
            problems.append("%s: header line that is no field: %r" % (kind, line[:60]))
            break
    if INJECTED.search(head):
        problems.append("%s: carries a header field the post injected" % kind)
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    text = data.decode("utf-8", "replace")
    for part in msg.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True) or b""
            text += payload.decode("utf-8", "replace")
    if kind == "autoreply":
        if SECRET in text:
            problems.append("autoreply: quotes the post")
        want = (canonical(sender), sender.translate(ASCII_LOWER))
        if row["recipients"] not in want:
            problems.append("autoreply: to %r, not the envelope sender %r" % (row["recipients"], sender))
    for rcpt in row["recipients"].split("\n") if row["recipients"] else []:
        if rcpt.lower() in (LIST, BOUNCE):
            problems.append("%s: addressed to the list's own address %s" % (kind, rcpt))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conf", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--exit", type=int, required=True)
    ap.add_argument("--stdout", required=True)
    ap.add_argument("--stderr", required=True)
    ap.add_argument("--sender", required=True)
    ap.add_argument("--report", action="append", default=[])
    args = ap.parse_args()
    reports = dict(r.split("=", 1) for r in args.report)
    base = {}
    for line in open(args.base):
        t, n = line.split()
        base[t] = int(n)

    db = sqlite3.connect("file:%s?mode=ro" % args.db, uri=True)
    db.row_factory = sqlite3.Row
    posts = db.execute("SELECT * FROM posts WHERE id > ? ORDER BY id", (base["posts"],)).fetchall()
    outbox = db.execute("SELECT * FROM outbox JOIN outbox_data ON outbox_id = id WHERE id > ? ORDER BY id", (base["outbox"],)).fetchall()
    bounces = db.execute("SELECT * FROM bounces WHERE id > ? ORDER BY id", (base["bounces"],)).fetchall()
    audit = db.execute("SELECT * FROM audit WHERE id > ? ORDER BY id", (base["audit"],)).fetchall()
    members = db.execute("SELECT count(*) FROM members").fetchone()[0]
    stored = bool(posts or outbox or bounces or audit or members != base["members"])

    obs = {}
    obs["exit"] = str(args.exit)
    obs["crash"] = crash_of(args)
    out = open(args.stdout, "rb").read().decode("utf-8", "replace").strip()
    obs["stdout"] = out.split("\n")[0] if out else ""

    words = set()
    for p in posts:
        words.add(p["status"])
    if bounces:
        words.add("bounce")
    kinds = [o["kind"] for o in outbox]
    if "forward" in kinds:
        words.add("forwarded")
    for a in audit:
        if a["action"] in ("join", "join-refused", "join-ignored"):
            words.add(a["action"])
    if args.exit == 0 and not stored:
        words.add("dropped")
    elif args.exit != 0 and stored:
        words.add("partial")
    elif args.exit == 69:
        words.add("rejected")
    elif args.exit == 75:
        words.add("tempfail")
    elif args.exit != 0:
        words.add("exit-%d" % args.exit)
    obs["outcome"] = "+".join(sorted(words)) or "none"
    obs["posts"] = str(len(posts))

    problems = []          # composed
    seen = []              # terminal
    held_ids = [p["id"] for p in posts if p["status"] == "held"]
    cli = Cli(args)
    held_json = cli("held", "--json")
    try:
        held = {h["id"]: h for h in json.loads(held_json)}
    except ValueError as e:
        held = {}
        problems.append("vigil held --json is not JSON: %s" % e)
    reasons = []
    for i in held_ids:
        if i not in held:
            problems.append("post %d is held but not in vigil held --json" % i)
            continue
        reasons.append(held[i]["reason"])
        obs["held-from"] = held[i]["from"] or "none"
        obs["held-subject"] = held[i]["subject"] or "none"
        if not any(o["kind"] == "moderator-held" and o["post_id"] == i for o in outbox):
            problems.append("post %d is held and the moderators are not told" % i)
        terminal_check("vigil show %d" % i, cli("show", str(i)), seen)
    obs["held-reason"] = " ".join(sorted(reasons)) or "none"
    if held_ids:
        terminal_check("vigil held", cli("held"), seen)
    terminal_check("vigil log", cli("log"), seen)
    if bounces:
        terminal_check("vigil bounces", cli("bounces"), seen)
        listed = {b["id"] for b in json.loads(cli("bounces", "--json"))}
        missing = [b["id"] for b in bounces if b["id"] not in listed]
        if missing:
            problems.append("bounces %s not in vigil bounces --json" % missing)

    sender = args.sender
    obs["autoreply"] = "yes" if "autoreply" in kinds else "no"
    relay = sorted(set(r for o in outbox if o["kind"] == "relay" for r in o["recipients"].split("\n")))
    obs["relay-rcpts"] = " ".join(relay) or "none"
    threads = sorted(set(reports.get(p["thread"], p["thread"]) for p in posts if p["thread"]))
    obs["thread"] = " ".join(threads) or "none"
    for o in outbox:
        composed_check(o["kind"], o, o["data"], sender, problems)
    obs["composed"] = "clean" if not problems else "; ".join(problems)
    seen += cli.failures
    obs["terminal"] = "clean" if not seen else "; ".join(seen)
    obs["bounces"] = str(len(bounces))
    obs["bounce-addresses"] = " ".join(sorted(b["address"] or "unknown" for b in bounces)) or "none"
    obs["bounce-failed"] = str(sum(1 for b in bounces if b["failed"]))
    obs["bounce-report"] = "yes" if "bounce-owner" in kinds else "no"

    for k, v in obs.items():
        # one line each: quotes, backslashes and controls as in JSON,
        # DEL, C1 and bidirectional controls as \uNNNN too
        v = json.dumps(v, ensure_ascii=False)[1:-1]
        print("%s: %s" % (k, RAW.sub(lambda m: "\\u%04x" % ord(m.group()), v)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
