#!/usr/bin/env python3
"""report.py - turn bench/run's measurements into the results.

Usage: report.py --raw DIR --out DIR [--version V] [--cflags F] [--cc MAKEFILE]

Reads DIR/throughput.tsv and DIR/measures.txt (bench/run), writes
OUT/latest.md (tables), OUT/latest.json (the same data) and
OUT/throughput.png (gnuplot), prints latest.md.  Exit status 0 when every
target is met, 1 when one is missed.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

LABELS = {
    "pipe-noop": "no-op pipe filter",
    "pipe-vigil": "vigil-filter (pipe)",
    "mlmmj": "mlmmj (pipe)",
    "milter-noop": "no-op milter",
    "milter-vigil": "vigil-milter",
}
SETS = {"member": "members' posts", "nonmember": "non-members' posts", "mix": "50/50 mix"}
# (vigil, baseline, sets, target)
RATIOS = [
    ("pipe-vigil", "pipe-noop", ("member", "nonmember", "mix"), 0.9),
    ("pipe-vigil", "mlmmj", ("member", "nonmember"), 1.0),
    ("milter-vigil", "milter-noop", ("member", "nonmember", "mix"), 0.85),
]


def run(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_mb": mem,
        "kernel": platform.release(),
        "os": run(". /etc/os-release && echo $PRETTY_NAME"),
        "tmp_fs": run("df --output=fstype /tmp | tail -n 1"),
    }


def versions(args):
    cc = "gcc"
    if args.cc and os.path.exists(args.cc):
        m = re.search(r"^CC = (.*)$", open(args.cc).read(), re.M)
        if m:
            cc = m.group(1).split()[0]
    return {
        "vigil": args.version,
        "postfix": run("postconf -d -h mail_version"),
        "mlmmj": run("dpkg-query -W -f='${Version}' mlmmj"),
        "compiler": run("%s --version | head -n 1" % cc),
        "cflags": args.cflags,
        "sqlite": run("pkg-config --modversion sqlite3"),
        "gmime": run("pkg-config --modversion gmime-3.0"),
        "libcurl": run("pkg-config --modversion libcurl"),
        "libmilter": run("dpkg-query -W -f='${Version}' libmilter1.0.1"),
    }


def read_measures(path):
    m = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" in line:
                k, v = line.split("=", 1)
                m[k] = v
    return m


def floats(s):
    out = []
    for x in (s or "").split(","):
        try:
            out.append(float(x))
        except ValueError:
            pass
    return out


def pct(xs, p):
    """nearest-rank percentile"""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def secs(s):
    """/usr/bin/time's [h:]m:ss.cc"""
    if not s:
        return None
    parts = [float(p) for p in s.split(":")]
    t = 0.0
    for p in parts:
        t = t * 60 + p
    return t


def r2(x, n=2):
    return None if x is None else round(x, n)


def throughput(path):
    rows = []
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            v = dict(zip(head, line.rstrip("\n").split("\t")))
            n, e2e, acc = int(v["n"]), float(v["e2e_s"]), float(v["accept_s"])
            rows.append({
                "round": int(v["round"]), "contender": v["contender"], "set": v["set"], "n": n,
                "accept_s": acc, "e2e_s": e2e,
                "accept_rate": n / acc if acc > 0 else 0.0,
                "rate": n / e2e if e2e > 0 else 0.0,
                "delivered": int(v["delivered"]), "expected": int(v["expected"]),
                "queue_files": int(v["queue_files"]),
            })
    return rows


def summarise(rows):
    out = {}
    for r in rows:
        k = (r["contender"], r["set"])
        out.setdefault(k, []).append(r)
    res = {}
    for (c, s), rs in out.items():
        rates = [r["rate"] for r in rs]
        res[(c, s)] = {
            "contender": c, "set": s, "runs": len(rs), "n": rs[0]["n"],
            "rates": [r2(x, 1) for x in rates],
            "median": r2(statistics.median(rates), 1), "min": r2(min(rates), 1), "max": r2(max(rates), 1),
            "accept_median": r2(statistics.median(r["accept_rate"] for r in rs), 1),
            "complete": all(r["delivered"] >= r["expected"] for r in rs),
            "delivered": sum(r["delivered"] for r in rs), "expected": sum(r["expected"] for r in rs),
            "by_round": {r["round"]: r["rate"] for r in rs},
            "queue_files_per_msg": r2(statistics.median(r["queue_files"] / r["n"] for r in rs)),
        }
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--version", default="unknown")
    ap.add_argument("--cflags", default="")
    ap.add_argument("--cc", default="")
    args = ap.parse_args()
    m = read_measures(os.path.join(args.raw, "measures.txt"))
    rows = throughput(os.path.join(args.raw, "throughput.tsv"))
    summ = summarise(rows)
    targets = []

    # ---- throughput ratios
    ratio_rows = []
    for vig, base, sets, want in RATIOS:
        for s in sets:
            a, b = summ.get((vig, s)), summ.get((base, s))
            if not a or not b or not b["median"]:
                continue
            ratio = a["median"] / b["median"]
            paired = [a["by_round"][k] / b["by_round"][k] for k in a["by_round"]
                      if k in b["by_round"] and b["by_round"][k] > 0]
            ok = ratio >= want
            row = {"what": "%s / %s, %s" % (LABELS[vig], LABELS[base], SETS[s]),
                   "vigil": vig, "baseline": base, "set": s, "ratio": r2(ratio),
                   "paired_min": r2(min(paired)) if paired else None,
                   "paired_max": r2(max(paired)) if paired else None,
                   "target": ">= %.2f" % want, "pass": ok}
            ratio_rows.append(row)
            value = "%.2f" % ratio
            if not (a["complete"] and b["complete"]):
                value += " (deliveries missing, see below)"
            targets.append({"target": row["what"], "value": value, "want": row["target"], "pass": ok})

    # ---- latency
    lat = {}
    for mode in ("pipe", "milter"):
        xs = floats(m.get("latency_%s_ms" % mode))
        lat[mode] = {"samples": len(xs), "median_ms": r2(statistics.median(xs), 1) if xs else None,
                     "p99_ms": r2(pct(xs, 99), 1), "max_ms": r2(max(xs), 1) if xs else None}

    # ---- RSS
    rss = []
    for k in sorted(m):
        mm = re.match(r"rss_kb_(member|nonmember)_(\d+)$", k)
        if not mm or not m[k]:
            continue
        kind, size = mm.group(1), int(mm.group(2))
        kb = int(m[k])
        nbytes = int(m.get("rss_bytes_%s_%d" % (kind, size), size))
        rss.append({"kind": kind, "size": nbytes, "rss_kb": kb, "rss_mb": r2(kb / 1024, 1),
                    "ratio": r2(kb * 1024 / nbytes, 2), "wall_s": secs(m.get("rss_wall_%s_%d" % (kind, size)))})
    rss.sort(key=lambda r: (r["size"], r["kind"]))
    for r in rss:
        if r["size"] >= 40_000_000:
            ok = r["rss_kb"] * 1024 <= 2 * r["size"]
            targets.append({"target": "peak RSS of vigil-filter, %.0f MB %s post" % (
                                r["size"] / 1e6, "member's" if r["kind"] == "member" else "non-member's"),
                            "value": "%.1f MB (%.2fx)" % (r["rss_kb"] / 1024, r["ratio"]),
                            "want": "<= 2x the message", "pass": ok})

    # ---- held
    held = {}
    for k in ("held_text_ms", "held_json_ms", "held_empty_ms"):
        xs = floats(m.get(k))
        held[k] = {"runs": len(xs), "median": r2(statistics.median(xs), 1) if xs else None,
                   "min": r2(min(xs), 1) if xs else None, "max": r2(max(xs), 1) if xs else None}
    nheld = int(m.get("held_posts", "0") or 0)
    for k, label in (("held_text_ms", "vigil held"), ("held_json_ms", "vigil held --json")):
        if held[k]["median"] is not None:
            ok = held[k]["median"] <= 50
            targets.append({"target": "%s, %d held posts" % (label, nheld), "value": "%.1f ms" % held[k]["median"],
                            "want": "<= 50 ms", "pass": ok})

    # ---- big relay
    big = floats(m.get("big_direct_ms"))
    bigr = {"direct_runs": len(big), "direct_median_ms": r2(statistics.median(big), 1) if big else None,
            "direct_min_ms": r2(min(big), 1) if big else None, "direct_max_ms": r2(max(big), 1) if big else None,
            "recipients": int(m.get("big_direct_rcpts", "0") or 0),
            "direct_outbox_left": int(m.get("big_direct_outbox_left", "0") or 0),
            "postfix_ms": r2(float(m["big_postfix_ms"]), 1) if m.get("big_postfix_ms") else None,
            "postfix_delivered": m.get("big_postfix_delivered"),
            "postfix_reinjections": m.get("big_postfix_transactions"),
            "postfix_outbox_left": m.get("big_postfix_outbox_left")}
    if big:
        targets.append({"target": "relay to %d members, vigil-filter to smtp-sink" % bigr["recipients"],
                        "value": "%.0f ms" % bigr["direct_median_ms"], "want": "<= 1000 ms",
                        "pass": bigr["direct_median_ms"] <= 1000 and bigr["direct_outbox_left"] == 0})

    db = {"held_posts": nheld, "real_posts": int(m.get("held_real_posts", "0") or 0),
          "listed": int(m.get("held_listed", str(nheld)) or 0),
          "bytes": int(m.get("db_bytes", "0") or 0), "wal_bytes": int(m.get("db_wal_bytes", "0") or 0)}
    db["bytes_per_post"] = round(db["bytes"] / nheld) if nheld else None

    result = {
        "date": m.get("finished") or datetime.datetime.utcnow().strftime("%FT%TZ"),
        "started": m.get("started"), "quick": m.get("quick") == "1", "rounds": int(m.get("rounds", "0")),
        "sessions": int(m.get("sessions", "0")), "load_start": m.get("load_start"), "load_end": m.get("load_end"),
        "machine": machine(), "versions": versions(args),
        "resolver_line": m.get("resolver_line") == "1",
        "vigild": m.get("vigild") == "yes",
        "throughput": [dict((k, v) for k, v in s.items() if k != "by_round") for s in
                       sorted(summ.values(), key=lambda s: (list(SETS).index(s["set"]), list(LABELS).index(s["contender"])))],
        "ratios": ratio_rows, "latency": lat, "rss": rss, "held": held, "big_relay": bigr, "database": db,
        "deferred": int(m.get("deferred", "0") or 0), "bounced": int(m.get("bounced", "0") or 0),
        "targets": targets, "all_pass": all(t["pass"] for t in targets),
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    md = markdown(result)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(md)
    plot(result, args.out, args.raw)
    sys.stdout.write(md)
    return 0 if result["all_pass"] else 1


def yes(b):
    return "pass" if b else "**MISS**"


def markdown(r):
    mc, v = r["machine"], r["versions"]
    o = []
    o.append("# vigil benchmark%s\n" % (" (quick run: not for quoting)" if r["quick"] else ""))
    o.append("%s; %d round(s) in alternation, %d SMTP sessions; load average %s at the start, %s at the end.\n"
             % (r["date"], r["rounds"], r["sessions"], r["load_start"], r["load_end"]))
    o.append("Machine: %s, %s cores, %s MB RAM, kernel %s, %s, /tmp on %s.  "
             % (mc["cpu"], mc["cores"], mc["ram_mb"], mc["kernel"], mc["os"], mc["tmp_fs"]))
    o.append("Versions: vigil %s, Postfix %s, mlmmj %s, %s (%s), sqlite %s, gmime %s, libcurl %s, libmilter %s.\n"
             % (v["vigil"], v["postfix"], v["mlmmj"], v["compiler"], v["cflags"], v["sqlite"], v["gmime"],
                v["libcurl"], v["libmilter"]))
    o.append("vigil-filter (pipe): %s\n"
             % ("vigild ran for the instance (filters/systemd/vigild.service), vigil-filter handed it every "
                "message; the direct runs below (RSS, held posts, the large relay) are vigil-filter running "
                "vigil-intake, on databases of their own" if r.get("vigild") else
                "no vigild in this build or run: vigil-filter did the work in its own process"))
    o.append("\n## Targets\n\n| target | measured | wanted | |\n|---|---|---|---|\n")
    for t in r["targets"]:
        o.append("| %s | %s | %s | %s |\n" % (t["target"], t["value"], t["want"], yes(t["pass"])))
    o.append("\n## Throughput (messages per second, end to end)\n\n"
             "From smtp-source's first connection to the last delivery at smtp-sink with an empty queue; "
             "a member's post is delivered to 20 members, a non-member's post causes two deliveries "
             "(the auto-reply or notice to the poster, the moderators' notice).  "
             "\"Postfix messages per post\" counts the queue files Postfix's cleanup wrote "
             "(one discarded by a milter included), per message smtp-source sent: the work "
             "Postfix does for each contender, on the same machine.\n\n"
             "| scenario | set | msgs | runs | msgs/s median | spread min-max | accepted msgs/s "
             "| delivered / expected | Postfix messages per post |\n"
             "|---|---|---|---|---|---|---|---|---|\n")
    for s in r["throughput"]:
        o.append("| %s | %s | %d | %d | %.1f | %.1f-%.1f | %.1f | %s%d / %d%s | %.2f |\n"
                 % (LABELS[s["contender"]], SETS[s["set"]], s["n"], s["runs"], s["median"], s["min"], s["max"],
                    s["accept_median"], "" if s["complete"] else "**", s["delivered"], s["expected"],
                    "" if s["complete"] else "**", s["queue_files_per_msg"]))
    o.append("\n## Ratios (median over median; per-round ratios min-max)\n\n"
             "| ratio | value | per round | target | |\n|---|---|---|---|---|\n")
    for x in r["ratios"]:
        o.append("| %s | %.2f | %s-%s | %s | %s |\n" % (x["what"], x["ratio"], x["paired_min"], x["paired_max"],
                                                       x["target"], yes(x["pass"])))
    o.append("\n## Latency: a non-member's DATA to the auto-reply in its Maildir\n\n"
             "| front-end | reports | median ms | p99 ms | max ms |\n|---|---|---|---|---|\n")
    for mode, label in (("pipe", "vigil-filter (pipe)"), ("milter", "vigil-milter")):
        x = r["latency"][mode]
        o.append("| %s | %d | %s | %s | %s |\n" % (label, x["samples"], x["median_ms"], x["p99_ms"], x["max_ms"]))
    o.append("\n## Peak RSS of vigil-filter (/usr/bin/time -v)\n\n"
             "Member's post: relayed to 20 members; non-member's post: held, raw message stored.  "
             "\"growth\" is the RSS above the same post's 1 KB run, per byte of message.\n\n"
             "| message | post | peak RSS MB | RSS / size | growth / size | wall s |\n|---|---|---|---|---|---|\n")
    base = dict((x["kind"], x["rss_kb"]) for x in r["rss"] if x["size"] < 10000)
    for x in r["rss"]:
        growth = (x["rss_kb"] - base.get(x["kind"], 0)) * 1024 / x["size"] if x["size"] >= 10000 else None
        o.append("| %s bytes | %s | %.1f | %.2f | %s | %s |\n" % (
            format(x["size"], ","), x["kind"], x["rss_kb"] / 1024, x["ratio"],
            "%.2f" % growth if growth is not None else "-", x["wall_s"]))
    h, db = r["held"], r["database"]
    o.append("\n## The held list, %s held posts\n\n" % format(db["held_posts"], ","))
    if db["listed"] != db["held_posts"]:
        o.append("(this build lists %s of them by default)\n\n" % format(db["listed"], ","))
    o.append("| command | runs | median ms | min-max ms |\n|---|---|---|---|\n")
    for k, label in (("held_text_ms", "vigil held"), ("held_json_ms", "vigil held --json"),
                     ("held_empty_ms", "vigil held, an empty list (start-up alone)")):
        x = h[k]
        o.append("| %s | %d | %s | %s-%s |\n" % (label, x["runs"], x["median"], x["min"], x["max"]))
    o.append("\nDatabase: %s bytes after %s held posts (%s bytes a post; %d stored by vigil-filter, "
             "the rest copies of them with new ids; raw messages kept).\n"
             % (format(db["bytes"], ","), format(db["held_posts"], ","), db["bytes_per_post"], db["real_posts"]))
    b = r["big_relay"]
    o.append("\n## One post to %s members\n\n" % format(b["recipients"], ","))
    o.append("vigil-filter straight to smtp-sink (relay = smtp-sink in vigil.conf): median %s ms over %d run(s) (%s-%s ms), "
             "%d outbox row(s) left.  "
             % (b["direct_median_ms"], b["direct_runs"], b["direct_min_ms"], b["direct_max_ms"], b["direct_outbox_left"]))
    o.append("Through Postfix (vigil-filter, the re-injection smtpd with its default limits, "
             "smtp(8), smtp-sink): %s deliveries, the last %s ms after the post was sent; "
             "%s transaction(s) begun at the re-injection smtpd, %s outbox row(s) left afterwards.\n"
             % (b["postfix_delivered"], b["postfix_ms"], b["postfix_reinjections"], b["postfix_outbox_left"]))
    o.append("\nDeferred deliveries in the whole run: %d; bounced: %d.  vigil's resolver line: %s.\n"
             % (r["deferred"], r["bounced"], "set (dnsmasq, no records)" if r["resolver_line"] else "not set"))
    return "".join(o)


SHORT = {"pipe-noop": "no-op pipe", "pipe-vigil": "vigil-filter", "mlmmj": "mlmmj",
         "milter-noop": "no-op milter", "milter-vigil": "vigil-milter"}
SHORTSET = {"member": "members", "nonmember": "non-members", "mix": "mix"}
COLOURS = {"pipe-noop": "#bbbbbb", "pipe-vigil": "#4477aa", "mlmmj": "#ccbb44",
           "milter-noop": "#888888", "milter-vigil": "#228833"}


def plot(r, out, raw):
    """throughput.png: one bar per scenario (median), min-max as error bars"""
    data = os.path.join(raw, "throughput.dat")
    with open(data, "w") as f:
        for i, s in enumerate(r["throughput"]):
            f.write("%d\t%s / %s\t%s\t%s\t%s\t%s\n" % (
                i, SHORT[s["contender"]], SHORTSET[s["set"]], s["median"], s["min"], s["max"],
                int(COLOURS[s["contender"]][1:], 16)))
    png = os.path.join(out, "throughput.png")
    script = """
set terminal png size 1200,640
set output '%s'
set datafile separator "\\t"
set title "vigil benchmark %s: end-to-end throughput (median of %d round(s); bars: min-max)"
set ylabel "messages per second"
set style fill solid 0.8 border -1
set boxwidth 0.7
set xtics rotate by -35 left nomirror
set grid ytics
set yrange [0:*]
set xrange [-0.6:%d]
set bmargin 10
set rmargin 6
plot '%s' using 1:3:6:xtic(2) with boxes lc rgb variable notitle, \\
     '' using 1:3:4:5 with yerrorbars lc rgb "black" pt -1 notitle
""" % (png, r["date"], r["rounds"], len(r["throughput"]), data)
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("report.py: gnuplot failed: %s" % getattr(e, "stderr", e), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
