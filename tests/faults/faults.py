#!/usr/bin/env python3
# tests/faults/faults.py - the helpers of tests/faults/lib.sh that shell
# does badly: killing a short-lived process at a random age, holding the
# database's write lock, reading the outbox, and the account of every
# tagged message.
#
#   faults.py kill --etc ETC --exe PATH[,PATH] --pending-exe PIPE [--victim PID]
#                  [--default-ms MS] --window S --stats FILE --seed N
#       Watch /proc for new processes of this instance (MAIL_CONFIG=ETC in
#       their environment) whose executable is one of PATH (the instance's
#       own copies, so no other instance's process can match); processes
#       running PIPE (pipe(8), which forks and then executes the filter) are
#       looked at again until they are something else.  Without
#       --victim: kill -9 one of them at a random age, uniform up to about
#       the longest lifetime seen so far (FILE keeps them; MS until three
#       were seen).  With --victim:
#       the first such process is the trigger; kill -9 PID (ours, by PID)
#       at a random moment from its start to its usual lifetime (half the
#       time: while vigild has its message) or to four times that (60 ms
#       at least), whether the trigger still runs or not.  Prints
#       "killed PID EXE AGE_MS at UNIXTIME" and exits 0, or "none" and
#       exits 1 when nothing was killed within S seconds.
#   faults.py lock DB READY RELEASE
#       BEGIN IMMEDIATE on DB, write READY once the lock is held, hold it
#       until RELEASE exists (5 minutes at most), roll back.  Run as the
#       database's owner.
#   faults.py outbox DB
#       One line per outbox row: "id kind tags" (the tags its bytes carry).
#       Run as the database's owner.
#   faults.py account LEDGER MAILDIRS HELD_JSON OUTBOX_TXT QUEUED_TXT MAILLOG [VIGIL_LOG...]
#       Every message of LEDGER (lines "tag type sender author round fault
#       wiring") against what is in the Maildirs (MAILDIRS/USER/{new,cur}),
#       held (vigil held --json --all), left in the outbox and left in
#       Postfix's queue.  Prints one line per message that is not exactly
#       where it should be, then "account: M messages, L lost, D duplicated".
#       One extra copy is no duplicate but "REPEATED BY THE RELAY" when the
#       logs prove the relay died in the window SMTP leaves (RFC 1047):
#       in a relay-down round, the relay's cleanup logged each copy with
#       the same Message-ID, the session of the relay's smtpd that took the
#       earlier copy logged nothing after it (not even its disconnect: the
#       reload killed it before it answered), and no VIGIL_LOG shows
#       vigil-sender given that copy's queue id ("queued as ID").
import email
import email.policy
import json
import os
import random
import re
import signal
import sqlite3
import sys
import time

TAG = re.compile(r'FT\d{5}\.\d+')
MEMBERS = ('alice', 'bob', 'carol')


class Watcher:
    """the processes of this instance (MAIL_CONFIG=etc) running one of exes,
    found cheaply: only processes new since the last look are examined,
    and those still running pipe(8) (which may exec a target) again; while
    a child of pipe(8) has yet to execute the filter, without a pause.  A
    target's children are not targets: a sanitizer's helper (LeakSanitizer's
    tracer is a clone of the process it checks) is no process of ours, and
    killing it leaves the process it checks spinning for ever, its message
    in Postfix's queue.  A process with no environment yet is in the middle
    of execve() and is looked at again: judged then, the filter would pass
    for no process of this instance, and its tracer for a target."""

    def __init__(self, etc, exes, pending_exe):
        self.want = b'MAIL_CONFIG=' + etc.encode()
        self.exes = set(exes)
        self.pending_exe = pending_exe
        self.kind = {}          # pid -> 'target', 'pending' or 'other'

    @staticmethod
    def exe(pid):
        try:
            return os.readlink('/proc/%d/exe' % pid)
        except OSError:
            return None

    def classify(self, pid):
        exe = self.exe(pid)
        if exe is None:
            return None
        if exe not in self.exes and exe != self.pending_exe:
            return 'other'
        try:
            with open('/proc/%d/stat' % pid) as f:
                stat = f.read().rsplit(')', 1)[1].split()
        except OSError:
            return None
        parent = self.kind.get(int(stat[1]))
        if exe == self.pending_exe:
            # a child of pipe(8) is about to execute the filter
            return 'forked' if parent in ('pending', 'forked') else 'pending'
        try:
            with open('/proc/%d/environ' % pid, 'rb') as f:
                env = f.read()
        except OSError:
            return None
        if not env:
            # in the middle of execve(): the new image is there, its
            # environment not yet (a verdict now would stick)
            return None
        if self.want not in env.split(b'\0'):
            return 'other'
        if stat[0] == 'Z' or parent == 'target' or self.exe(int(stat[1])) in self.exes:
            return 'other'
        return 'target'

    def hot(self):
        """a child of pipe(8) has forked: look again at once"""
        return 'forked' in self.kind.values()

    def look(self):
        """pid -> exe of the live targets"""
        pids = set(int(n) for n in os.listdir('/proc') if n.isdigit())
        for pid in list(self.kind):
            if pid not in pids:
                del self.kind[pid]
        for pid in sorted(pids):
            k = self.kind.get(pid)
            if k is None or k != 'other':
                k = self.classify(pid)
                if k is None:
                    self.kind.pop(pid, None)
                    continue
                self.kind[pid] = k
        live = {}
        for pid, k in self.kind.items():
            if k == 'target':
                exe = self.exe(pid)
                if exe in self.exes:
                    live[pid] = exe
        return live


def load_stats(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def usual_lifetime(stats, exes, default):
    """about the longest lifetime (ms) seen of these executables"""
    seen = sorted(x for e in exes for x in stats.get(os.path.basename(e), []))
    if len(seen) < 3:
        return default
    return seen[int(len(seen) * 0.9)] * 1.2


def cmd_kill(args):
    etc = args['--etc']
    exes = args['--exe'].split(',')
    victim = int(args['--victim']) if '--victim' in args else None
    window = float(args['--window'])
    stats_file = args['--stats']
    rng = random.Random(int(args['--seed']))
    stats = load_stats(stats_file)
    default = float(args.get('--default-ms', '100'))
    # half the kills of vigild land while the trigger waits (vigild has the
    # message), the others while vigild sends what it queued
    near = rng.random() < 0.5

    def horizon():
        """ms: up to about the longest lifetime seen, as seen so far"""
        life = usual_lifetime(stats, exes, default)
        if victim:
            return life if near else max(60.0, 4 * life)
        return life
    watcher = Watcher(etc, exes, args.get('--pending-exe', ''))
    watcher.look()      # the processes there already are no news
    start = time.monotonic()
    seen = {}           # pid -> (first seen, exe, kill at)
    victim_at = None    # --victim: when to kill it, from the first trigger on
    result = None
    while time.monotonic() - start < window and result is None:
        now = time.monotonic()
        live = watcher.look()
        for pid, exe in live.items():
            if pid not in seen:
                seen[pid] = [now, exe, now + rng.uniform(0, horizon()) / 1000.0]
                if victim and victim_at is None:
                    victim_at = (now, seen[pid][2])
            seen[pid][1] = exe
        if victim_at and now >= victim_at[1]:
            try:
                os.kill(victim, signal.SIGKILL)
                result = 'killed %d victim %.0f at %.3f' % (victim, (now - victim_at[0]) * 1000.0,
                                                            time.time())
            except OSError:
                break
            continue
        for pid, (t0, exe, at) in list(seen.items()):
            if pid not in live:
                life = (now - t0) * 1000.0
                stats.setdefault(os.path.basename(exe), []).append(round(life, 1))
                del seen[pid]
            elif now >= at and not victim:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    continue
                result = 'killed %d %s %.0f at %.3f' % (pid, os.path.basename(exe), (now - t0) * 1000.0,
                                                        time.time())
                break
        if not watcher.hot():
            time.sleep(0.001)
    for k in stats:
        stats[k] = stats[k][-200:]
    with open(stats_file, 'w') as f:
        json.dump(stats, f)
    print(result or 'none')
    return 0 if result else 1


def cmd_lock(db, ready, release):
    conn = sqlite3.connect(db, timeout=60, isolation_level=None)
    conn.execute('BEGIN IMMEDIATE')
    with open(ready, 'w') as f:
        f.write('%d\n' % os.getpid())
    start = time.monotonic()
    while not os.path.exists(release) and time.monotonic() - start < 300:
        time.sleep(0.05)
    conn.execute('ROLLBACK')
    conn.close()
    return 0


def cmd_outbox(db):
    conn = sqlite3.connect('file:%s?mode=ro' % db, uri=True, timeout=30)
    rows = conn.execute('SELECT o.id, o.kind, d.data FROM outbox o'
                        ' JOIN outbox_data d ON d.outbox_id = o.id ORDER BY o.id').fetchall()
    for oid, kind, data in rows:
        tags = sorted(set(TAG.findall(bytes(data).decode('utf-8', 'replace'))))
        print(oid, kind, ','.join(tags) or '-')
    return 0


def text_of(msg):
    """the decoded subject and text parts of a message"""
    out = [str(msg.get('Subject', ''))]
    for part in msg.walk():
        if not part.is_multipart() and part.get_content_maintype() == 'text':
            try:
                out.append(part.get_content())
            except (LookupError, ValueError):
                out.append(part.get_payload(decode=True).decode('utf-8', 'replace'))
    return '\n'.join(out)


RECEIVED_ID = re.compile(r'\bwith E?SMTPS?A? id ([0-9A-Za-z]+)')


def relay_id(msg):
    """the queue id the relay gave this copy (its top Received: field)"""
    for r in msg.get_all('Received', []):
        m = RECEIVED_ID.search(str(r))
        if m:
            return m.group(1)
    return None


def scan_maildirs(top):
    """(kind, tag, user) -> the relay's queue ids of the copies: copy,
    autoreply, notice, bounce"""
    seen = {}
    for user in sorted(os.listdir(top)):
        for sub in ('new', 'cur'):
            d = os.path.join(top, user, sub)
            if not os.path.isdir(d):
                continue
            for name in os.listdir(d):
                with open(os.path.join(d, name), 'rb') as f:
                    msg = email.message_from_binary_file(f, policy=email.policy.default)
                auto = str(msg.get('Auto-Submitted', '')).lower()
                sender = str(msg.get('From', '')).lower()
                if 'mailer-daemon' in sender or msg.get_content_type() == 'multipart/report':
                    kind, tags = 'bounce', TAG.findall(msg.as_string())
                elif auto.startswith('auto-replied'):
                    kind, tags = 'autoreply', TAG.findall(str(msg.get('In-Reply-To', '')))
                elif auto.startswith('auto-generated'):
                    kind, tags = 'notice', TAG.findall(text_of(msg))
                else:
                    kind, tags = 'copy', TAG.findall(str(msg.get('Subject', '')))
                for t in set(tags):
                    seen.setdefault((kind, t, user), []).append(relay_id(msg))
    return seen


class RelayLog:
    """what Postfix's log and vigil's logs say of the relay's queue ids"""

    LINE = re.compile(r'postfix/[\w/.-]*?(smtpd|cleanup)\[(\d+)\]: (.*)$')

    def __init__(self, maillog, vigil_logs):
        self.client = {}    # queue id -> (smtpd pid, index of its line)
        self.msgid = {}     # queue id -> Message-ID
        self.smtpd = {}     # smtpd pid -> indexes of its lines
        self.given = set()  # queue ids vigil-sender was given
        try:
            with open(maillog, errors='replace') as f:
                lines = f.read().splitlines()
        except OSError:
            lines = []
        for i, line in enumerate(lines):
            m = self.LINE.search(line)
            if not m:
                continue
            prog, pid, rest = m.group(1), int(m.group(2)), m.group(3)
            if prog == 'smtpd':
                self.smtpd.setdefault(pid, []).append((i, rest))
                c = re.match(r'([0-9A-Za-z]+): client=', rest)
                if c:
                    self.client[c.group(1)] = (pid, i)
            else:
                c = re.match(r'([0-9A-Za-z]+): message-id=(\S*)', rest)
                if c:
                    self.msgid[c.group(1)] = c.group(2)
        for path in vigil_logs:
            try:
                with open(path, errors='replace') as f:
                    self.given.update(re.findall(r'status=sent reply=2\d\d .*queued as ([0-9A-Za-z]+)',
                                                 f.read()))
            except OSError:
                pass

    def cut_off(self, qid):
        """the smtpd that took qid logged nothing after it in that session"""
        if qid not in self.client:
            return False
        pid, at = self.client[qid]
        after = [rest for i, rest in self.smtpd[pid] if i > at]
        return not after or after[0].startswith('connect from')

    def repeated(self, qids):
        """the copies are one message the relay took again after it died
        before answering for all but the last"""
        if None in qids or len(set(self.msgid.get(q) for q in qids)) != 1 \
           or self.msgid.get(qids[0]) is None:
            return False
        qids = sorted(qids, key=lambda q: self.client.get(q, (0, -1))[1])
        return all(self.cut_off(q) and q not in self.given for q in qids[:-1])


def cmd_account(ledger, maildirs, held_json, outbox_txt, queued_txt, maillog, *vigil_logs):
    msgs = []
    with open(ledger) as f:
        for line in f:
            p = line.split()
            if len(p) >= 7:
                msgs.append(dict(tag=p[0], type=p[1], sender=p[2], author=p[3],
                                 round=p[4], fault=p[5], wiring=p[6]))
    seen = scan_maildirs(maildirs) if os.path.isdir(maildirs) else {}
    relay = RelayLog(maillog, vigil_logs)
    with open(held_json) as f:
        held = json.load(f)
    held_n = {}
    for h in held:
        for t in set(TAG.findall(h.get('subject') or '')):
            held_n[t] = held_n.get(t, 0) + 1
    outbox = {}
    with open(outbox_txt) as f:
        for line in f:
            p = line.split()
            if len(p) == 3 and p[2] != '-':
                for t in p[2].split(','):
                    outbox.setdefault(t, []).append(p[1])
    queued = set()
    with open(queued_txt) as f:
        for line in f:
            queued.update(TAG.findall(line))
    lost = dup = 0
    for m in msgs:
        t = m['tag']
        got = {}
        qids = {}
        for (kind, tag, user), ids in seen.items():
            if tag == t:
                got['%s:%s' % (kind, user)] = len(ids)
                qids['%s:%s' % (kind, user)] = ids
        want = {}
        if m['type'] == 'post':
            for u in MEMBERS:
                if u != m['author']:
                    want['copy:' + u] = 1
            held_want = 0
        else:
            want['autoreply:reporter'] = 1
            want['notice:alice'] = 1
            held_want = 1
        problems = []
        is_lost = is_dup = is_repeat = False
        for k in sorted(set(want) | set(got)):
            w, g = want.get(k, 0), got.get(k, 0)
            if g < w:
                is_lost = True
                problems.append('%s %d of %d' % (k, g, w))
            elif g == w + 1 and w == 1 and m['fault'] == 'relay-down' and relay.repeated(qids[k]):
                problems.append('%s %d of %d, relay queue ids %s' % (k, g, w, ','.join(qids[k])))
                is_repeat = True
            elif g > w:
                is_dup = is_dup or w > 0 or not k.startswith('bounce')
                if k.startswith('bounce'):
                    is_lost = True
                problems.append('%s %d of %d' % (k, g, w))
        h = held_n.get(t, 0)
        if h < held_want:
            is_lost = True
            problems.append('held %d of %d' % (h, held_want))
        elif h > held_want:
            is_dup = True
            problems.append('held %d of %d' % (h, held_want))
        if t in outbox:
            problems.append('still in the outbox: %s' % ','.join(outbox[t]))
        if t in queued:
            problems.append("still in Postfix's queue")
        if problems:
            print('%s %s round %s %s (%s): %s%s%s%s' % (
                t, m['type'], m['round'], m['fault'], m['wiring'], '; '.join(problems),
                ' LOST' if is_lost else '', ' DUPLICATED' if is_dup else '',
                ' REPEATED BY THE RELAY' if is_repeat else ''))
        lost += is_lost
        dup += is_dup
    print('account: %d messages, %d lost, %d duplicated' % (len(msgs), lost, dup))
    return 0 if lost == 0 and dup == 0 else 1


def main(argv):
    if len(argv) < 2:
        print(__doc__ or 'usage: faults.py kill|lock|outbox|account ...', file=sys.stderr)
        return 64
    cmd = argv[1]
    if cmd == 'kill':
        args = {}
        rest = argv[2:]
        while rest:
            args[rest[0]] = rest[1]
            rest = rest[2:]
        return cmd_kill(args)
    if cmd == 'lock' and len(argv) == 5:
        return cmd_lock(*argv[2:])
    if cmd == 'outbox' and len(argv) == 3:
        return cmd_outbox(argv[2])
    if cmd == 'account' and len(argv) >= 8:
        return cmd_account(*argv[2:])
    print('faults.py: bad arguments: %s' % ' '.join(argv[1:]), file=sys.stderr)
    return 64


if __name__ == '__main__':
    sys.exit(main(sys.argv))
