#!/usr/bin/env python3
"""The unlock set's layout, simulated (docs/capacity.md, "Memory"): records
placed as src/store/unlockset.c places them (home when it has room, else
away with the fingerprint bit set in the home's meta, in the second bucket
or the next with room), at the fitted load factor; prints the share of
records away, the cache lines a lookup reads for a subscriber with records
and for one without, and the share of buckets marked overflowed.

    python3 bench/unlockset_sim.py [RECORDS]
"""
import random
import sys

PER, LOAD = 5, 0.85
n = int(sys.argv[1]) if len(sys.argv) > 1 else 400000
nb = int(n / (PER * LOAD)) + 1
rnd = random.Random(1)
used, away, ovf = [0] * nb, [0] * nb, [False] * nb
recs, n_away = [], 0
for _ in range(n):
    h0, h1, bit = rnd.randrange(nb), rnd.randrange(nb), 1 << rnd.randrange(31)
    recs.append((h0, h1, bit))
    if used[h0] < PER:
        used[h0] += 1
        continue
    n_away += 1
    away[h0] |= bit
    i = h1
    while used[i] == PER:
        ovf[i] = True
        i = (i + 1) % nb
    used[i] += 1


def lines(h0, h1, bit):
    """Lines a lookup reads: the home, then the run from h1 if the bit is set."""
    k = 1
    if not away[h0] & bit:
        return k
    i = h1
    while True:
        k += i != h0
        if not ovf[i]:
            return k
        i = (i + 1) % nb


hit = sum(lines(*r) for r in recs) / n
m = 200000
miss = sum(lines(rnd.randrange(nb), rnd.randrange(nb), 1 << rnd.randrange(31))
           for _ in range(m)) / m
print(f"{n} records, {nb} buckets (load {n / (nb * PER):.2f}): {n_away / n:.1%} away; "
      f"lines a lookup: {hit:.2f} with records, {miss:.2f} without; "
      f"{sum(ovf) / nb:.1%} of buckets overflowed")
