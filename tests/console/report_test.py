#!/usr/bin/env python3
"""callbar batch --report FILE.html: the plots' numbers are the summary's,
and the file opens in headless Chromium with no network and no console
error.

usage: report_test.py CALLBAR RULES ARTEFACTS_DIR

The records are made here (a fixed seed): Zhejiang, Henan and other
subscribers, peers abroad, at home and emergency, over three days, and one
bad line.  The report of `batch --compare OLD` is checked against the
summary batch prints (totals, every rule's line, the changes) and against
the output file itself (the subscribers newly barred, counted from its
verdict and old_verdict columns); the same report comes out of four
threads.  Then Chromium opens it from disk with every request to the
network sent to a proxy that is not there.
"""
import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webdriver  # noqa: E402

failures = []


def check(name, ok, detail=""):
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + str(detail)[:800]) if not ok else ""))
    if not ok:
        failures.append(name)


def report_data(path):
    with open(path, encoding="utf-8") as f:
        html = f.read()
    m = re.search(r'<script type="application/json" id="cbar-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1)), html


def summary(stderr):
    """The summary's numbers: totals, per-rule lines, the compare part."""
    s = {"rules": {}, "changes": {}, "changed_by": {}, "old_rules": {}}
    m = re.search(r"batch: (\d+) records: (\d+) allow, (\d+) block, (\d+) error", stderr)
    s["totals"] = {"records": int(m.group(1)), "allow": int(m.group(2)),
                   "block": int(m.group(3)), "error": int(m.group(4))}
    part = "rules"
    for line in stderr.splitlines():
        if line.startswith("compare with"):
            m = re.search(r"(\d+) of (\d+) decided", line)
            s["changed"], s["decided"] = int(m.group(1)), int(m.group(2))
            part = "changes"
            continue
        if "changed, by the rule" in line:
            part = "changed_by"
            continue
        if "the old file's rules" in line:
            part = "old_rules"
            continue
        m = re.match(r"\s+(emergency): (\d+) allow$", line) or \
            re.match(r"\s+(\S+) \S+: (\d+)$", line) if part != "changes" else \
            re.match(r"\s+(\w+ -> \w+): (\d+)$", line)
        if m:
            key = m.group(1).replace(" ", "")
            s[part][key] = int(m.group(2))
    return s


def main():
    cb, rules, art = (os.path.abspath(a) for a in sys.argv[1:4])
    os.makedirs(art, exist_ok=True)
    work = tempfile.mkdtemp(prefix="cbar_report_")
    try:
        # The old file: the pilots without the Zhejiang rules of 2022-05-01.
        with open(rules, encoding="utf-8") as f:
            text = f.read()
        old = os.path.join(work, "old.rules")
        with open(old, "w", encoding="utf-8") as f:
            f.write("\n".join(l for l in text.split("\n") if "CN-ZJ since 2022-05-01" not in l))
        rnd = random.Random(15)
        subs = ["15003710000", "15003710001", "15003710002", "13805710000", "13805710001",
                "13805710002", "13900000000", "18600000000", "15800000000", "17700000000"]
        peers = ["+85291234567", "+14155550100", "13912345678", "+447700900123", "110",
                 "+886912345678"]
        cdr = os.path.join(work, "cdr.csv")
        with open(cdr, "w") as f:
            f.write("time,service,direction,subscriber,peer\n")
            for _ in range(12000):
                f.write("%d,%s,%s,%s,%s\n" % (1652000000 + rnd.randint(0, 3 * 86400),
                                              rnd.choice(["voice", "sms"]), rnd.choice(["in", "out"]),
                                              rnd.choice(subs), rnd.choice(peers)))
            f.write("not,a,record\n")
        html = os.path.join(art, "report.html")
        out = os.path.join(work, "out.csv")
        p = subprocess.run([cb, "batch", "--rules", rules, "--compare", old, "--report", html,
                            cdr, out], capture_output=True, text=True)
        check("batch --report ran (1: one bad record)", p.returncode == 1, p.stderr)
        s = summary(p.stderr)
        d, page = report_data(html)

        # ---- the plots' numbers are the summary's ----
        check("totals equal the summary's", d["totals"] == s["totals"], (d["totals"], s["totals"]))
        rules_d = {r["rule"]: r["n"] for r in d["per_rule"]}
        check("every rule's count equals the summary's", rules_d == s["rules"], (rules_d, s["rules"]))
        t = d["time"]
        drawn = sum(t["allow"]) + sum(t["block"]) + sum(t["error"])
        check("records over time add up to the decided records",
              drawn == s["totals"]["records"] - 1 and sum(t["allow"]) == s["totals"]["allow"] and
              sum(t["block"]) == s["totals"]["block"], (drawn, s["totals"]))
        check("three days and a bit: by hour", t["unit"] == "hour" and len(t["labels"]) >= 72, len(t["labels"]))
        blocks = sum(r["n"] for r in d["blocks_by_rule"])
        check("blocks by rule add up to the blocks", blocks == s["totals"]["block"], blocks)
        for key in ("by_region", "by_carrier"):
            tot = {v: sum(r[v] for r in d[key]) for v in ("allow", "block", "error")}
            check("%s adds up" % key, tot["allow"] == s["totals"]["allow"] and
                  tot["block"] == s["totals"]["block"], tot)
        regions = {r["key"]: r for r in d["by_region"]}
        check("Henan and Zhejiang have blocks", regions.get("CN-HA", {}).get("block") and
              regions.get("CN-ZJ", {}).get("block"), list(regions))
        c = d["compare"]
        check("compare: changed records equal the summary's",
              c["changed"] == s["changed"] and c["decided"] == s["decided"], (c["changed"], s.get("changed")))
        check("compare: changes equal the summary's", {k: v for k, v in c["changes"].items() if v} == s["changes"],
              (c["changes"], s["changes"]))
        check("compare: the rule that now decides", {r["rule"]: r["n"] for r in c["changed_by"]} == s["changed_by"],
              (c["changed_by"], s["changed_by"]))
        check("compare: the old file's rules", {r["rule"]: r["n"] for r in c["old_per_rule"]} == s["old_rules"])
        newly = set()
        with open(out) as f:
            for row in csv.DictReader(f):
                if row.get("old_verdict") == "allow" and row.get("verdict") == "block":
                    newly.add(row["subscriber"])
        check("compare: subscribers newly barred, as the output file says",
              c["newly_barred_subscribers"] == len(newly) > 0, (c["newly_barred_subscribers"], len(newly)))
        raw = page.split('id="cbar-data">')[1].split("</script>")[0]
        check("the data cannot end its script element early", "</" not in raw and "\\/" in raw)

        # ---- the same report from four threads in small chunks ----
        html4 = os.path.join(work, "r4.html")
        env = dict(os.environ, CALLBAR_BATCH_CHUNK="131072")
        p4 = subprocess.run([cb, "batch", "--threads", "4", "--rules", rules, "--compare", old,
                             "--report", html4, cdr, os.path.join(work, "out4.csv")],
                            capture_output=True, text=True, env=env)
        d4, _ = report_data(html4)
        check("four threads: the same report", d4 == d and p4.returncode == 1)

        # ---- JSON lines in: the same counts ----
        jl = os.path.join(work, "cdr.jsonl")
        with open(cdr) as f, open(jl, "w") as g:
            rows = list(csv.reader(f))
            for r in rows[1:]:
                if len(r) == 5:
                    g.write(json.dumps(dict(zip(rows[0], r))) + "\n")
        htmlj = os.path.join(work, "rj.html")
        pj = subprocess.run([cb, "batch", "--format", "jsonl", "--rules", rules, "--compare", old,
                             "--report", htmlj, jl, os.path.join(work, "outj.jsonl")],
                            capture_output=True, text=True)
        dj, _ = report_data(htmlj)
        same = {k: dj[k] for k in ("per_rule", "blocks_by_rule", "by_region", "by_carrier", "time")}
        want = {k: d[k] for k in same}
        want["time"] = dict(d["time"])
        check("JSON lines: the same report but the bad line", pj.returncode == 0 and same == want and
              dj["totals"]["error"] == 0 and dj["compare"]["newly_barred_subscribers"] ==
              c["newly_barred_subscribers"], pj.stderr[-300:])

        # ---- opened from disk, no network, no console error ----
        drv = webdriver.Driver(no_network=True, log_dir=art)
        try:
            drv.get("file://" + html)
            drv.wait(lambda: drv.js("return document.body.getAttribute('data-drawn')") == "1", "the report drawn")
            tot = drv.js("return Number(document.getElementById('plot-time').dataset.total)")
            check("the browser draws every record over time", tot == drawn, tot)
            tb = drv.js("return Number(document.getElementById('plot-rules').dataset.total)")
            check("the browser draws every block by rule", tb == s["totals"]["block"], tb)
            reqs = drv.js("return performance.getEntriesByType('resource').map(function(e){return e.name})")
            check("the report loads nothing", reqs == [], reqs)
            drv.screenshot(os.path.join(art, "report.png"))
            bad = [e["message"] for e in drv.browser_log() if e.get("level") == "SEVERE"]
            check("no console error", not bad, bad)
        finally:
            drv.quit()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d failed: %s" % (len(failures), ", ".join(failures)) if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
