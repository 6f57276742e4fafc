#!/usr/bin/env python3
"""multiply.py - grow a list's held posts to TOTAL by copying real ones.

Usage: multiply.py DATABASE LIST TOTAL

Posts made one by one through vigil-filter cost ~16 ms each (most of it
exec and fsync), so 100,000 would take half an hour.  This copies the
held posts that vigil-filter really stored - every column, raw message
included (in posts, or in post_raw from schema 4 on) - under new post ids and new report ids (YYYY-NNNN, numbered on
from the list's report counter), with their audit rows, doubling until
TOTAL, and moves the report counter on.  Column lists are read from the
database, so a new column is copied too.
"""
import sqlite3
import sys


def columns(c, table):
    return [r[1] for r in c.execute("PRAGMA table_info(%s)" % table)]


def main():
    db, lst, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA foreign_keys = ON")
    pcols = [x for x in columns(c, "posts") if x != "id"]
    acols = [x for x in columns(c, "audit") if x != "id"]
    rcols = [x for x in columns(c, "post_raw") if x != "post_id"]
    held = lambda: c.execute("SELECT count(*) FROM posts WHERE list = ? AND status = 'held'",
                             (lst,)).fetchone()[0]
    n = held()
    if n == 0:
        print("multiply.py: no held post to copy", file=sys.stderr)
        return 1
    while n < total:
        k = min(n, total - n)
        last = c.execute("SELECT coalesce(max(last), 0) FROM report_counters WHERE list = ?",
                         (lst,)).fetchone()[0]
        off = max(c.execute("SELECT max(id) FROM posts").fetchone()[0], last)
        # the new report number of a copy is its new post id: above every number in use
        rid = "substr(report_id, 1, 5) || printf('%04d', {id} + :off)"
        sel = ", ".join(rid.format(id="id") if x == "report_id" else x for x in pcols)
        pick = ("SELECT id FROM posts WHERE list = :lst AND status = 'held' ORDER BY id LIMIT :k")
        c.execute("BEGIN")
        c.execute("INSERT INTO posts (id, %s) SELECT id + :off, %s FROM posts WHERE id IN (%s)"
                  % (", ".join(pcols), sel, pick), {"off": off, "lst": lst, "k": k})
        if rcols:   # raw messages in a table of their own (schema 4 on)
            c.execute("INSERT INTO post_raw (post_id, %s) SELECT post_id + :off, %s FROM post_raw"
                      " WHERE post_id IN (%s)" % (", ".join(rcols), ", ".join(rcols), pick),
                      {"off": off, "lst": lst, "k": k})
        asel = ", ".join("post_id + :off" if x == "post_id"
                         else rid.format(id="post_id") if x == "report_id" else x for x in acols)
        c.execute("INSERT INTO audit (%s) SELECT %s FROM audit WHERE post_id IN (%s)"
                  % (", ".join(acols), asel, pick), {"off": off, "lst": lst, "k": k})
        top = c.execute("SELECT max(id) FROM posts").fetchone()[0]
        c.execute("UPDATE report_counters SET last = max(last, ?) WHERE list = ?", (top, lst))
        c.execute("COMMIT")
        n = held()
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    print("multiply.py: %d held posts" % n, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
