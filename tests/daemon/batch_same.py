#!/usr/bin/env python3
"""POST /v1/decide in batches and one event at a time, and compare (tests).

usage: batch_same.py BATCH_URL SINGLE_URL

The same events, in the same order, go to two daemons started alike (the
same rules, registries with the same records): to the first as batches
(a JSON array, then JSON lines, each longer than the daemon's chunk of 64
so that chunks and bodies both split the events), to the second one POST at
a time.  Every answer must be the same, item by item: a verdict the same
JSON object, an error the same code.  The events cover what the batched
path must keep: blocks, unlock records, a limit that events go over inside
a batch, emergency numbers (also with a subscriber that cannot be read),
events the parser refuses, and subscribers that cannot be read.  Exits 1
with the differences, or when the answers do not cover all of these."""
import datetime
import json
import random
import sys
import urllib.error
import urllib.request

batch_url, single_url = sys.argv[1], sys.argv[2]
rng = random.Random(18)
subs = ["13805710000", "13805710001", "15003710002", "15003710003", "13904110000",
        "13910000000", "0571 8800 1234"]
peers = ["+85291234567", "+12025550100", "0085261234567", "13900000000", "+886912345678",
         "110", "+8613801380000", "+447700900123"]


def event(k):
    """Event k: mostly a random mix, with fixed cases at fixed places."""
    t = 1764720000 + k  # ordered times, one a second: the limit's window holds them all
    e = {"service": rng.choice(["voice", "sms"]), "direction": rng.choice(["in", "out"]),
         "subscriber": rng.choice(subs), "peer": rng.choice(peers),
         "at": datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if k % 9 == 4:  # the limit's subscriber calling abroad, over 4 inside the first batch
        e.update(service="voice", direction="out", subscriber="13910000000",
                 peer="+12025550100")
    if k % 37 == 11:
        e["subscriber"] = "not-a-number"  # an error, unless the peer is an emergency number
    if k % 41 == 12:
        e.update(subscriber="abc", peer="112", direction="out", service="voice")
    if k % 43 == 20:
        e["service"] = "fax"  # refused by the parser: an item error
    if k % 47 == 30:
        del e["peer"]
    return e


def post(url, body, ctype):
    rq = urllib.request.Request(url + "/v1/decide" if ctype == "single" else url + "/v1/decide/batch",
                                data=body.encode(), method="POST",
                                headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(rq, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def norm(a):
    """An answer as compared: a verdict whole, an error by its code."""
    if "error" in a and isinstance(a["error"], dict):
        return ("error", a["error"].get("code"))
    return ("verdict", json.dumps(a, sort_keys=True))


events = [event(k) for k in range(200)]
got_batch = []
# the first 150 as one JSON array, the other 50 as JSON lines
st, body = post(batch_url, json.dumps(events[:150]), "batch")
if st != 200:
    sys.exit("FAIL batch array: HTTP %d %s" % (st, body[:300]))
got_batch += json.loads(body)["results"]
st, body = post(batch_url, "\n".join(json.dumps(e) for e in events[150:]) + "\n", "batch")
if st != 200:
    sys.exit("FAIL batch lines: HTTP %d %s" % (st, body[:300]))
got_batch += [json.loads(line) for line in body.splitlines() if line.strip()]
if len(got_batch) != len(events):
    sys.exit("FAIL: %d answers for %d events" % (len(got_batch), len(events)))

bad = 0
seen = {"allow": 0, "block": 0, "error": 0, "exempted": 0, "limit": 0, "emergency": 0,
        "emergency-bad-subscriber": 0}
codes = {}
for k, e in enumerate(events):
    st, body = post(single_url, json.dumps(e), "single")
    one = json.loads(body)
    if norm(one) != norm(got_batch[k]):
        bad += 1
        print("FAIL event %d %s:\n  single  %s\n  batched %s" % (k, json.dumps(e), body,
                                                                json.dumps(got_batch[k])))
        continue
    a = one
    if "error" in a and isinstance(a["error"], dict):
        seen["error"] += 1
        codes[a["error"].get("code")] = codes.get(a["error"].get("code"), 0) + 1
        continue
    seen[a.get("verdict", "?")] = seen.get(a.get("verdict", "?"), 0) + 1
    if a.get("exempted_by"):
        seen["exempted"] += 1
    if a.get("limit") and a["limit"].get("barred_until"):
        seen["limit"] += a.get("verdict") == "block"
    if a.get("reason") == "emergency":
        seen["emergency"] += 1
        if e["subscriber"] in ("abc", "not-a-number"):
            seen["emergency-bad-subscriber"] += 1
print("answers:", " ".join("%s=%d" % kv for kv in sorted(seen.items())),
      "errors:", " ".join("%s=%d" % kv for kv in sorted(codes.items())))
missing = [k for k, v in seen.items() if not v]
# a subscriber that cannot be read, and items the parser refuses (a bad
# service, a missing field)
if len(codes) < 3:
    missing.append("three kinds of error")
if missing:
    print("FAIL: the events cover no", ", ".join(missing))
    bad += 1
sys.exit(1 if bad else 0)
