#!/usr/bin/env python3
"""SIP over UDP: the answers to a burst that the workers read in one
recvmmsg() batch against those to the same requests sent one at a time
(tests).

usage: batch_sip.py BURST_PORT BURST_PID SINGLE_PORT

Two daemons started alike (same rules, same registry records) listen for
outgoing calls.  The burst goes to the first while it is stopped (SIGSTOP,
until /proc shows it stopped), so that every datagram is queued before a
worker reads: they come in batches of 32 (UDP_BATCH) and the INVITEs of a
batch are decided in one call.  The same requests go to the second one at
a time, each answer awaited.  Every answer must be byte for byte the same.
Then the same over TCP: written at once on one connection while the first
daemon is stopped, and one at a time to the second, with a keep-alive
ping among them; the two byte streams must be equal.  The requests:
INVITEs blocked, unlocked, allowed, going over a limit inside
the first batch, to an emergency number from a subscriber that cannot be
read, with a subscriber that cannot be read, a MESSAGE, OPTIONS, a request
without CSeq (400), an ACK and a response (no answer).  Exits 1 with the
differences, or when the answers do not cover all of these."""
import os
import signal
import socket
import sys
import time

burst_port, burst_pid, single_port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
H = "127.0.0.1"


def request(k, method, ruri, frm, cseq=True):
    lines = ["%s %s SIP/2.0" % (method, ruri),
             "Via: SIP/2.0/UDP %s:5999;branch=z9hG4bK-b%d" % (H, k),
             "Max-Forwards: 70", "From: <%s>;tag=f%d" % (frm, k), "To: <%s>" % ruri,
             "Call-ID: batch-%d@callbar.test" % k]
    if cseq:
        lines.append("CSeq: 1 %s" % method)
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def sip(n):
    return "sip:%s@%s;user=phone" % (n, H)


reqs = []  # (bytes, answered)
calls = [("13805710000", "+85291234567"),    # Zhejiang abroad: 403
         ("13805710001", "+85291234567"),    # unlocked: 302 with the record
         ("15003710002", "13900000000"),     # at home: 302
         ("13910000000", "+12025550100"),    # the limit's subscriber (4/1h)
         ("13904110000", "+447700900123")]
for k in range(40):
    sub, peer = calls[k % len(calls)]
    if k % 4 == 1 and k < 28:
        sub, peer = "13910000000", "+12025550100"  # goes over the limit in the first 32
    reqs.append((request(k, "INVITE", sip(peer), sip(sub)), True))
reqs[6] = (request(6, "INVITE", sip("110"), "sip:anonymous@" + H), True)  # emergency
reqs[7] = (request(7, "INVITE", sip("+85291234567"), "sip:abc@" + H), True)  # no subscriber
reqs[8] = (request(8, "MESSAGE", sip("+85291234567"), sip("13805710000")), True)
reqs[10] = (request(10, "OPTIONS", "sip:" + H, "sip:probe@" + H), True)
reqs[12] = (request(12, "INVITE", sip("+85291234567"), sip("13805710000"), cseq=False), True)
reqs[14] = (b"ACK sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-a\r\n"
            b"From: <sip:a@h>;tag=1\r\nTo: <sip:x@h>;tag=2\r\nCall-ID: ack@t\r\nCSeq: 1 ACK\r\n"
            b"Content-Length: 0\r\n\r\n", False)
reqs[16] = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-r\r\n"
            b"From: <sip:a@h>;tag=1\r\nTo: <sip:x@h>;tag=2\r\nCall-ID: resp@t\r\nCSeq: 1 INVITE\r\n"
            b"Content-Length: 0\r\n\r\n", False)
want = sum(1 for _, a in reqs if a)


def call_id(msg):
    for line in msg.split(b"\r\n"):
        if line.lower().startswith(b"call-id:") or line.lower().startswith(b"i:"):
            return line.split(b":", 1)[1].strip()
    return None


def collect(s, n):
    """n answers by Call-ID, within 20 seconds at most (a bound, not a timing)."""
    got = {}
    end = time.monotonic() + 20
    while len(got) < n and time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            data = s.recv(65535)
        except socket.timeout:
            break
        got[call_id(data)] = data
    return got


def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((H, 0))
    return s


# The burst: every datagram queued while the daemon is stopped.
s = sock()
os.kill(burst_pid, signal.SIGSTOP)
for _ in range(200):
    with open("/proc/%d/stat" % burst_pid) as f:
        if f.read().rsplit(")", 1)[1].split()[0] == "T":
            break
    time.sleep(0.01)
else:
    os.kill(burst_pid, signal.SIGCONT)
    sys.exit("FAIL: the daemon did not stop")
for data, _ in reqs:
    s.sendto(data, (H, burst_port))
os.kill(burst_pid, signal.SIGCONT)
burst = collect(s, want)

# One at a time.
single = {}
t = sock()
for data, answered in reqs:
    t.sendto(data, (H, single_port))
    if answered:
        single.update(collect(t, 1))

bad = 0
if len(burst) != want or len(single) != want:
    print("FAIL: %d answers to the burst, %d to single requests, want %d"
          % (len(burst), len(single), want))
    bad += 1
for cid in sorted(set(burst) | set(single), key=lambda c: c or b""):
    if burst.get(cid) != single.get(cid):
        bad += 1
        print("FAIL %s:\n-- burst\n%s\n-- single\n%s" % (cid, burst.get(cid), single.get(cid)))

# TCP: the same requests written at once on one connection while the daemon
# is stopped (its worker then reads many in one read and decides them
# together), against one at a time on a connection to the second daemon,
# with a keep-alive ping in the middle: the two byte streams must be equal.
def tcp_req(data):
    # the limit's subscriber of the UDP part is barred by now: another one
    # goes over the limit here
    return data.replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP").replace(
        b"Call-ID: batch-", b"Call-ID: tcp-").replace(b"13910000000", b"13910000001")


def tcp_read(c, n, pongs):
    """Read n answers and pongs from c (20 s at most); the bytes read."""
    buf = b""
    end = time.monotonic() + 20
    while time.monotonic() < end:
        # count what buf holds: answers end at their (empty) body, a pong is CRLF
        k, got, p = 0, 0, 0
        while p < len(buf):
            if buf.startswith(b"\r\n", p):
                k, p = k + 1, p + 2
                continue
            e = buf.find(b"\r\n\r\n", p)
            if e < 0:
                break
            got, p = got + 1, e + 4
        if got >= n and k >= pongs:
            return buf
        c.settimeout(max(0.1, end - time.monotonic()))
        try:
            data = c.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        buf += data
    return buf


treqs = [(tcp_req(d), a) for d, a in reqs]
treqs.insert(20, (b"\r\n\r\n", None))  # a ping: answered with CRLF
ca = socket.create_connection((H, burst_port))
os.kill(burst_pid, signal.SIGSTOP)
for _ in range(200):
    with open("/proc/%d/stat" % burst_pid) as f:
        if f.read().rsplit(")", 1)[1].split()[0] == "T":
            break
    time.sleep(0.01)
ca.sendall(b"".join(d for d, _ in treqs))
os.kill(burst_pid, signal.SIGCONT)
tburst = tcp_read(ca, want, 1)
cb = socket.create_connection((H, single_port))
tsingle = b""
for data, answered in treqs:
    cb.sendall(data)
    if answered is None:
        tsingle += tcp_read(cb, 0, 1)
    elif answered:
        tsingle += tcp_read(cb, 1, 0)
ca.close()
cb.close()
if tburst != tsingle or tburst.count(b"SIP/2.0 ") != want:
    bad += 1
    print("FAIL tcp: %d bytes, %d answers at once; %d bytes, %d answers one at a time"
          % (len(tburst), tburst.count(b"SIP/2.0 "), len(tsingle), tsingle.count(b"SIP/2.0 ")))
    for x, y in zip(tburst.split(b"\r\n\r\n"), tsingle.split(b"\r\n\r\n")):
        if x != y:
            print("-- at once\n%s\n-- one at a time\n%s" % (x, y))
            break

statuses = {}
for a in single.values():
    st = a.split(b" ", 2)[1].decode()
    statuses[st] = statuses.get(st, 0) + 1
text = b"".join(single.values())
print("answers:", " ".join("%s=%d" % kv for kv in sorted(statuses.items())))
for what in (b"SIP/2.0 403", b"SIP/2.0 302", b"SIP/2.0 200", b"SIP/2.0 400", b"too-many-intl",
             b"X-Callbar-Unlock", b"emergency"):
    if what not in text:
        print("FAIL: no answer has", what.decode())
        bad += 1
sys.exit(1 if bad else 0)
