#!/usr/bin/env python3
"""A generated day of CDRs (CSV: time,service,direction,subscriber,peer) for
tests/limits/batch_day.sh: background traffic that no limit of day.rules
counts over, with an injected Wangiri wave (one foreign caller ringing 300
different subscribers from 10:00) and an IRSF burst (one subscriber calling
premium ranges 30 times from 14:00).  Deterministic (a fixed seed); records
in time order, as a switch writes them.  Usage: gen_day.py RECORDS"""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
rnd = random.Random(14)
day = 1772323200  # 2026-03-01T00:00:00Z
rows = []


def sub():
    return "138%08d" % rnd.randrange(10**8)


def foreign():
    cc = rnd.choice(["44", "1", "49", "33", "852", "81", "61", "7"])
    return "+%s%09d" % (cc, rnd.randrange(10**9))


for _ in range(n):
    t = day + rnd.randrange(86400)
    k = rnd.random()
    if k < 0.35:
        rows.append((t, "voice", "in", sub(), foreign()))
    elif k < 0.6:
        rows.append((t, "voice", "out", sub(), foreign() if rnd.random() < 0.3 else sub()))
    elif k < 0.8:
        rows.append((t, "sms", "in", sub(), foreign()))
    elif k < 0.999:
        rows.append((t, "sms", "out", sub(), sub()))
    else:  # a rare call to a premium range, by anyone
        rows.append((t, "voice", "out", sub(), "+88216%06d" % rnd.randrange(10**6)))
# The Wangiri wave: +447700900123 rings 300 subscribers, two a minute... ten.
for i in range(300):
    rows.append((day + 10 * 3600 + i * 6, "voice", "in", "139%08d" % (i * 7919), "+447700900123"))
# The IRSF burst: 13805719999 calls premium ranges 30 times in an hour.
for i in range(30):
    rows.append((day + 14 * 3600 + i * 120, "voice", "out", "13805719999",
                 "+8823%07d" % (i * 31337)))
rows.sort(key=lambda r: r[0])
out = sys.stdout
for t, svc, d, s, p in rows:
    out.write("@%d,%s,%s,%s,%s\n" % (t, svc, d, s, p))
