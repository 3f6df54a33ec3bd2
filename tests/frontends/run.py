#!/usr/bin/env python3
"""The cross-front-end cases: every event of cases.txt through `callbar check`,
`callbar batch`, HTTP (POST /v1/decide) and SIP (UDP and TCP, on `callbar serve`
and on `callbar sip-serve`), with one rule file and one SQLite registry.  Each front end's answer must be the case's verdict,
rule, reason and exempting record.

usage: run.py CALLBAR SRCDIR      (SRCDIR: tests/frontends)
Exit 0 when every front end agrees with every case; 1 otherwise."""
import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CB, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
RULES = os.path.join(SRC, "front.rules")
# The operator's numbering, given to every front end (segments.tsv replaces
# the built-in segment table; ported.tsv moves numbers to another carrier).
SEGMENTS = os.path.join(SRC, "segments.tsv")
PORTED = os.path.join(SRC, "ported.tsv")
NUMBERING = ["--segments", SEGMENTS, "--ported", PORTED]
DOC = "11010519491231002X"  # a valid GB 11643 number, for verified unlocks
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL " + msg)


def read_cases(path):
    unlocks, cases = [], []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("unlock "):
            unlocks.append(line.split()[1:])
            continue
        name, ev, want = [p.strip() for p in line.split("|")]
        f = ev.split()
        w = want.split()
        if len(f) != 7 or len(w) != 4:
            sys.exit(f"cases.txt:{n}: want 7 event fields and 4 expectations")
        opt = lambda s: None if s == "-" else s
        cases.append({
            "name": name, "line": n, "service": f[0], "direction": f[1], "subscriber": f[2],
            "peer": f[3], "at": opt(f[4]), "ingress": opt(f[5]), "roaming": opt(f[6]),
            "want": tuple(w)})
    return unlocks, cases


def norm_json(v):
    """A verdict object (check --json, HTTP, batch) as (verdict, rule, reason, exempted)."""
    ex = v.get("exempted_by")
    exs = "-" if not ex else f'{ex["subscriber"]}/{ex["scope"]}/{ex["level"]}'
    return (v["verdict"], v.get("rule") or "-", v.get("reason") or "-", exs)


def given(c, k):
    """The event's number field as a front end other than SIP sends it: None
    when left out ("none"), a SIP URI's user part (or nothing) otherwise."""
    v = c[k]
    if v == "none":
        return None
    if v.startswith("sip:"):
        v = v[4:]
        return v.split("@")[0] if "@" in v else ""
    return v


def check(c, reg):
    args = [CB, "check", "--rules", RULES, "--registry", reg, "--service", c["service"],
            "--direction", c["direction"], "--json"] + NUMBERING
    for k in ("subscriber", "peer"):
        if given(c, k) is not None:
            args += ["--" + k, given(c, k)]
    for k in ("at", "ingress", "roaming"):
        if c[k]:
            args += ["--" + k, c[k]]
    p = subprocess.run(args, capture_output=True, text=True)
    try:
        return norm_json(json.loads(p.stdout))
    except ValueError:
        return ("no-json", p.stdout + p.stderr, "", "")


def batch(cases, reg, now):
    with open("in.jsonl", "w") as f:
        for c in cases:
            o = {"time": c["at"] or now, "service": c["service"], "direction": c["direction"]}
            for k in ("subscriber", "peer"):
                if given(c, k) is not None:
                    o[k] = given(c, k)
            if c["ingress"]:
                o["ingress"] = c["ingress"]
            if c["roaming"]:
                o["roaming"] = c["roaming"] == "yes"
            f.write(json.dumps(o) + "\n")
    subprocess.run([CB, "batch", "--rules", RULES, "--registry", reg, "--format", "jsonl"] +
                   NUMBERING + ["in.jsonl", "out.jsonl"], capture_output=True)
    return [norm_json(json.loads(l)) for l in open("out.jsonl")]


def http(url, c):
    o = {"service": c["service"], "direction": c["direction"]}
    for k in ("subscriber", "peer"):
        if given(c, k) is not None:
            o[k] = given(c, k)
    if c["at"]:
        o["at"] = c["at"]
    if c["ingress"]:
        o["ingress"] = c["ingress"]
    if c["roaming"]:
        o["roaming"] = c["roaming"] == "yes"
    rq = urllib.request.Request(url + "/v1/decide", data=json.dumps(o).encode(), method="POST")
    try:
        with urllib.request.urlopen(rq, timeout=10) as r:
            return norm_json(json.loads(r.read()))
    except urllib.error.HTTPError as e:
        return ("http-%d" % e.code, e.read().decode(), "", "")


def sip_uri(number):
    if number == "none":
        return "sip:callbar.test"
    if number.startswith("sip:"):
        return number
    return "sip:" + number.replace(" ", "") + "@callbar.test;user=phone"


def sip_recv_tcp(s):
    """One response from a TCP stream: the head, then Content-Length bytes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65535)
        if not chunk:
            break
        data += chunk
    return data


def sip(port, c, seq, tcp=False, extra=""):
    """One INVITE (voice) or MESSAGE (sms) over UDP or TCP; its answer as a
    verdict."""
    method = "INVITE" if c["service"] == "voice" else "MESSAGE"
    if c["direction"] == "out":  # our subscriber calls: From, and the peer in the Request-URI
        ruri, frm, to = sip_uri(c["peer"]), sip_uri(c["subscriber"]), sip_uri(c["peer"])
    else:  # someone calls our subscriber: the peer in From, our subscriber in the Request-URI
        ruri, frm, to = sip_uri(c["subscriber"]), sip_uri(c["peer"]), sip_uri(c["subscriber"])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    s.settimeout(5)
    try:
        if tcp:
            s.connect(("127.0.0.1", port))
        else:
            s.bind(("127.0.0.1", 0))
    except OSError as e:
        s.close()
        return ("no-connect", str(e), "", "")
    lp = s.getsockname()[1]
    tp = "TCP" if tcp else "UDP"
    msg = (f"{method} {ruri} SIP/2.0\r\n"
           f"Via: SIP/2.0/{tp} 127.0.0.1:{lp};branch=z9hG4bK-front-{seq}\r\n"
           f"Max-Forwards: 70\r\nFrom: <{frm}>;tag=f{seq}\r\nTo: <{to}>\r\n"
           f"Call-ID: front-{seq}@callbar.test\r\nCSeq: 1 {method}\r\n"
           f"Contact: <sip:test@127.0.0.1:{lp}>\r\n{extra}Content-Length: 0\r\n\r\n")
    try:
        if tcp:
            s.sendall(msg.encode())
            data = sip_recv_tcp(s).decode("utf-8", "replace")
        else:
            s.sendto(msg.encode(), ("127.0.0.1", port))
            data = s.recv(65535).decode("utf-8", "replace")
        if not data:
            return ("no-answer", "", "", "")
    except socket.timeout:
        return ("no-answer", "", "", "")
    finally:
        s.close()
    status = int(data.split(" ", 2)[1])
    hdr = {}
    for l in data.split("\r\n")[1:]:
        if ":" in l:
            k, v = l.split(":", 1)
            hdr[k.strip().lower()] = v.strip()
    verdict = "allow" if 300 <= status < 400 else "block" if status in (403, 603) else \
        "sip-%d" % status
    reason = hdr.get("x-callbar-reason", "-")
    m = re.search(r'text="([^"]*)"', hdr.get("reason", ""))
    if m:
        reason = m.group(1)
    ex = "-"
    u = hdr.get("x-callbar-unlock")
    if u:
        m = re.match(r"(\+\d+);scope=([^;]+);level=(\w+)$", u)
        ex = f"{m.group(1)}/{m.group(2)}/{m.group(3)}" if m else "bad:" + u
    return (verdict, hdr.get("x-callbar-rule", "-"), reason, ex)


# The switch's word on the subscriber's carrier and region, in header fields
# a listener names (carrier=, region=), before the numbering data.
HEADER_CASES = [
    # (name, subscriber, extra headers, want)
    ("hdr-region", "19300000000", "X-Region: CN-HA\r\n", ("block", "front.rules:10", "ha-sms", "-")),
    ("hdr-no-region", "19300000000", "", ("allow", "front.rules:16", "-", "-")),
    ("hdr-carrier", "13805710008", "x-carrier:  ctcc \r\n", ("allow", "front.rules:16", "-", "-")),
    ("hdr-bad-carrier", "13805710008", "X-Carrier: nonesuch\r\n",
     ("block", "front.rules:11", "zj-voice", "-")),
]


def switch_headers(reg):
    out = open("hdr.out", "w")
    d = subprocess.Popen([CB, "sip-serve", "--rules", RULES, "--registry", reg, "--workers", "1",
                          "--listener", "127.0.0.1:0 direction=in carrier=X-Carrier region=X-Region"]
                         + NUMBERING, stdout=out, stderr=open("hdr.err", "w"))
    try:
        port = None
        for _ in range(400):
            m = re.search(r"sip in [^ ]*:(\d+) ", open("hdr.out").read())
            if m or d.poll() is not None:
                port = m and int(m.group(1))
                break
            time.sleep(0.05)
        if not port:
            sys.exit("sip-serve did not start:\n" + open("hdr.err").read())
        for i, (name, sub, extra, want) in enumerate(HEADER_CASES):
            c = {"service": "sms" if "region" in name else "voice", "direction": "in",
                 "subscriber": sub, "peer": "+447911123456"}
            for tcp in (False, True):
                got = sip(port, c, 1000 + i, tcp=tcp, extra=extra)
                if got != want:
                    fail(f"{name} ({'tcp' if tcp else 'udp'}): got {' '.join(got)} "
                         f"want {' '.join(want)}")
    finally:
        d.terminate()
        d.wait(timeout=30)


def main():
    unlocks, cases = read_cases(os.path.join(SRC, "cases.txt"))
    work = tempfile.mkdtemp(prefix="cbar_front_")
    os.chdir(work)
    reg = "sqlite:" + os.path.join(work, "reg.db")
    for number, scope, level in unlocks:
        args = [CB, "unlock", number, "--scope", scope, "--level", level, "--registry", reg]
        if level == "verified":
            args += ["--doc-type", "cn-resident", "--doc", DOC, "--agent", "test"]
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode:
            sys.exit("unlock failed: " + p.stderr)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    results = {c["name"]: {} for c in cases}
    for c in cases:
        results[c["name"]]["check"] = check(c, reg)
    for c, r in zip(cases, batch(cases, reg, now)):
        results[c["name"]]["batch"] = r

    with open("serve.conf", "w") as f:
        f.write("[sip]\nlisten = 127.0.0.1:0\nlisten_in = 127.0.0.1:0\n"
                "[http]\ndecide_auth = none\n"
                f"[numbering]\nsegments = {SEGMENTS}\nported = {PORTED}\n")
    out = open("serve.out", "w")
    d = subprocess.Popen([CB, "serve", "--config", "serve.conf", "--http", "127.0.0.1:0",
                          "--rules", RULES, "--registry", reg, "--tokens", "tok"],
                         stdout=out, stderr=open("serve.err", "w"))
    try:
        url, sips = None, {}
        for _ in range(400):
            text = open("serve.out").read()
            for m in re.finditer(r"SIP on [^ ]*:(\d+) \(.*direction (in|out)\)", text):
                sips[m.group(2)] = int(m.group(1))
            m = re.search(r"listening on (http://\S+)", text)
            if m:
                url = m.group(1)
                break
            if d.poll() is not None:
                break
            time.sleep(0.05)
        if not url or len(sips) != 2:
            sys.exit("the daemon did not start:\n" + open("serve.out").read() +
                     open("serve.err").read())
        for i, c in enumerate(cases):
            results[c["name"]]["http"] = http(url, c)
            if not (c["at"] or c["ingress"] or c["roaming"]):
                results[c["name"]]["sip"] = sip(sips[c["direction"]], c, i)
                results[c["name"]]["sip-tcp"] = sip(sips[c["direction"]], c, i, tcp=True)
    finally:
        d.terminate()
        d.wait(timeout=30)

    # The standalone SIP server: the same listeners, the same answers.
    out = open("sip.out", "w")
    d = subprocess.Popen([CB, "sip-serve", "--rules", RULES, "--registry", reg,
                          "--sip", "127.0.0.1:0", "--sip-in", "127.0.0.1:0", "--workers", "1"] +
                         NUMBERING,
                         stdout=out, stderr=open("sip.err", "w"))
    try:
        sips = {}
        for _ in range(400):
            for m in re.finditer(r"sip (in|out) [^ ]*:(\d+) ", open("sip.out").read()):
                sips[m.group(1)] = int(m.group(2))
            if len(sips) == 2 or d.poll() is not None:
                break
            time.sleep(0.05)
        if len(sips) != 2:
            sys.exit("sip-serve did not start:\n" + open("sip.out").read() +
                     open("sip.err").read())
        for i, c in enumerate(cases):
            if not (c["at"] or c["ingress"] or c["roaming"]):
                results[c["name"]]["sip-serve"] = sip(sips[c["direction"]], c, i)
                results[c["name"]]["sip-serve-tcp"] = sip(sips[c["direction"]], c, i, tcp=True)
    finally:
        d.terminate()
        d.wait(timeout=30)

    switch_headers(reg)

    fronts = {k: 0 for k in ("check", "batch", "http", "sip", "sip-tcp", "sip-serve",
                             "sip-serve-tcp")}
    for c in cases:
        for front, got in results[c["name"]].items():
            fronts[front] += 1
            if got != c["want"]:
                fail(f'{c["name"]} (cases.txt:{c["line"]}) {front}: got {" ".join(map(str, got))}'
                     f' want {" ".join(c["want"])}')
    print("frontends: %d cases; decided by %s" %
          (len(cases), ", ".join(f"{k} {v}" for k, v in fronts.items())))
    if failures:
        print("serve.err:\n" + open("serve.err").read()[-3000:])
        print("sip.err:\n" + open("sip.err").read()[-3000:])
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


sys.exit(main())
