#!/usr/bin/env python3
"""The cluster, tested: two PostgreSQL servers (a primary and a synchronous
standby by streaming replication, tests/cluster/pg_pair.sh) and three
`callbar serve` nodes on the multi-host URL

    postgresql://127.0.0.1:P1,127.0.0.1:P2/callbar?target_session_attrs=read-write

with decisions over HTTP to every node, texts from abroad (SIP MESSAGE)
through Kamailio's dispatcher over the nodes' SIP listeners
(docs/kamailio/callbar.cfg with CALLBAR_LIST: OPTIONS probing, a hash of
the caller) and unlocks on random nodes running all along, while faults
happen one at a time:

  1. the standby stops: a synchronous commit waits for it, so an unlock
     hangs (no answer, never a 201) until the standby is back, then succeeds;
     decisions go on;
  2. one callbar node is killed (SIGKILL) and started again: Kamailio takes
     it out of its set and the texts go on being decided by the others;
  3. the primary is killed (SIGKILL) and the standby promoted;
  4. everything is stopped and started again.

Every answer is recorded and checked: no decision failed or came back
wrong against the unlocks acknowledged before it (an unlock acknowledged at
time t must govern every decision begun after t + 1 s, on every node; a
subscriber never unlocked is always blocked); every unlock answered 201 is
present on every node afterwards; a write that failed got HTTP 503 with a
stable code (the CLI exit 2) and its retry is safe; readiness went 503 and
came back within READY_BOUND seconds; `audit --verify` passes on the
promoted standby; `callbar cluster status` agrees, and disagrees (exit 1,
the CallbarRulesDiffer alert firing in promtool on the real series) when
one node runs another rule file.

Figures go to stdout as lines 'FIGURE name value' (BENCHMARKS.md).
    run.py CALLBAR TESTS_DIR
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

CB = os.path.abspath(sys.argv[1])
TESTS = os.path.abspath(sys.argv[2])
TOP = os.path.dirname(TESTS)
PAIR = os.path.join(TESTS, "cluster", "pg_pair.sh")
WORK = "/tmp/callbar-cluster-%d" % os.getpid()
PGDIR = WORK + "/pg"
# Below the kernel's ephemeral range (32768-60999), so that a client socket
# never takes a killed node's port (or connects to itself on it).
BASE = 21000 + (os.getpid() % 600) * 16
P1, P2 = BASE, BASE + 1
NODE_PORTS = [BASE + 2, BASE + 3, BASE + 4]
SIP_PORTS = [BASE + 5, BASE + 6, BASE + 7]  # each node's SIP (direction in)
KAM_PORT, UAS_PORT = BASE + 8, BASE + 9      # Kamailio; where allowed texts go
URL = ("postgresql://127.0.0.1:%d,127.0.0.1:%d/callbar?user=postgres"
       "&target_session_attrs=read-write&connect_timeout=2" % (P1, P2))
PROPAGATION = 1.0   # an acknowledged unlock governs every node within this
READY_BOUND = 15.0  # seconds from the primary's loss to every node ready
RULES = """# the cluster test's policy: texts from abroad barred unless unlocked
zone foreign !+86
block in sms from foreign unless unlocked reason locked
pass all
"""

failures = []
figures = {}
NODES = []  # every node started, to be killed by its pid whatever happens
FRONTS = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def figure(name, value):
    figures[name] = value
    print("FIGURE %s %s" % (name, value), flush=True)


def now():
    return time.monotonic()


def sh(*args, check=True, timeout=120):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stdout))
    return r


def pair(*args):
    return sh("sh", PAIR, args[0], PGDIR, *[str(a) for a in args[1:]])


def request(port, method, path, body=None, token=None, timeout=5.0):
    """(status, json or None); raises OSError when the node does not answer."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        try:
            r = c.getresponse()
            data = r.read()
        except http.client.HTTPException as e:
            raise OSError("not an HTTP answer: %r" % e)
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, data.decode(errors="replace")
    finally:
        c.close()


def sub_number(i):
    return "+86138%08d" % i


def event(sub):
    return {"service": "sms", "direction": "in", "subscriber": sub, "peer": "+85291234567"}


# ---- the nodes -------------------------------------------------------------

class Node:
    def __init__(self, i):
        self.i = i
        self.port = NODE_PORTS[i]
        self.dir = "%s/node%d" % (WORK, i + 1)
        os.makedirs(self.dir, exist_ok=True)
        self.rules = self.dir + "/policy.rules"
        with open(self.rules, "w") as f:
            f.write(RULES)
        self.conf = self.dir + "/callbar.conf"
        with open(self.conf, "w") as f:
            f.write("[http]\nlisten = 127.0.0.1:%d\ndecide_auth = none\nthreads = 8\n"
                    "drain_timeout = 5\n[rules]\nfile = %s\n[registry]\nurl = \"%s\"\n"
                    "[auth]\ntokens = %s/tokens\n[log]\nlevel = warn\n"
                    "[sip]\nlisten_in = 127.0.0.1:%d\n"
                    % (self.port, self.rules, URL, WORK, SIP_PORTS[i]))
        self.proc = None
        self.down = True

    def start(self):
        log = open(self.dir + "/serve.log", "a")
        self.proc = subprocess.Popen([CB, "serve", "--config", self.conf], stdout=log,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        t0 = now()
        while now() - t0 < 30:
            if self.proc.poll() is not None:
                raise RuntimeError("node %d exited %d at start: %s" % (
                    self.i + 1, self.proc.returncode, open(self.dir + "/serve.log").read()[-2000:]))
            try:
                if request(self.port, "GET", "/readyz", timeout=1)[0] == 200:
                    self.down = False
                    return now() - t0
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("node %d not ready in 30 s" % (self.i + 1))

    def kill(self):
        self.down = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.down = True
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        if rc != 0:
            fail("node %d stopped with exit %d" % (self.i + 1, rc))


# ---- the load --------------------------------------------------------------

class State:
    """What was asked and acknowledged, shared by the load threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}       # subscriber -> monotonic time of its first 2xx
        self.attempted = {}   # subscriber -> time of its first attempt
        self.decisions = 0
        self.wrong = []
        self.failed = []
        self.refused = 0       # a killed node's refusals (re-sent elsewhere)
        self.write_errors = {}  # (status, code) -> count
        self.unknown_writes = 0  # no answer (timeout): retried
        self.propagation = []  # seconds from a 201 to the other nodes deciding allow
        self.stop = False
        self.pause_unlocks = threading.Event()


def decider(st, nodes, rnd, nsubs):
    k = 0
    while not st.stop:
        sub = sub_number(rnd.randrange(nsubs))
        order = [nodes[(k + j) % len(nodes)] for j in range(len(nodes))]
        k += 1
        t0 = now()
        for n in order:
            try:
                status, body = request(n.port, "POST", "/v1/decide", event(sub), timeout=5)
            except OSError as e:
                # A switch re-sends to the next node; only a node we killed may refuse.
                with st.lock:
                    if n.down:
                        st.refused += 1
                    else:
                        st.failed.append("node %d did not answer a decision: %s" % (n.i + 1, e))
                continue
            t1 = now()
            with st.lock:
                st.decisions += 1
                if status != 200 or not isinstance(body, dict) or body.get("verdict") not in (
                        "allow", "block"):
                    st.failed.append("node %d: HTTP %s %s" % (n.i + 1, status, body))
                    break
                ack = st.acked.get(sub)
                tried = st.attempted.get(sub)
                v = body["verdict"]
                if ack is not None and ack + PROPAGATION < t0 and v != "allow":
                    st.wrong.append("node %d blocked %s %.2f s after its unlock was acknowledged"
                                    % (n.i + 1, sub, t0 - ack))
                elif (tried is None or tried > t1) and v != "block":
                    st.wrong.append("node %d allowed %s, never unlocked" % (n.i + 1, sub))
            break
        time.sleep(0.001)  # some 1,000 decisions a second a thread: a shared machine


def unlock_once(st, nodes, sub, rnd, token):
    """Send one unlock to a random live node; True when acknowledged."""
    live = [n for n in nodes if not n.down] or nodes
    n = rnd.choice(live)
    with st.lock:
        st.attempted.setdefault(sub, now())
    try:
        status, body = request(n.port, "PUT", "/v1/unlocks/" + sub,
                               {"channel": "api", "service": "sms", "direction": "in"},
                               token=token, timeout=10)
    except OSError:
        with st.lock:
            st.unknown_writes += 1
        return False, n
    if status in (200, 201):
        with st.lock:
            st.acked.setdefault(sub, now())
        return True, n
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    with st.lock:
        st.write_errors[(status, code)] = st.write_errors.get((status, code), 0) + 1
    if status != 503 or code not in ("UNAVAILABLE", "STORE_DOWN", "STORE_BUSY"):
        fail("an unlock failed with HTTP %s %s (want 503 with a stable code)" % (status, body))
    return False, n


def seen_allow(port, sub):
    try:
        status, body = request(port, "POST", "/v1/decide", event(sub), timeout=2)
    except OSError:
        return None
    return status == 200 and body.get("verdict") == "allow"


def unlocker(st, nodes, rnd, token, first, last):
    """Unlocks subscribers first..last-1 one by one, each retried until
    acknowledged (an unlock is idempotent per subscriber), and measures how
    long the other nodes take to decide by it."""
    i = first
    while not st.stop and i < last:
        if st.pause_unlocks.is_set():
            time.sleep(0.05)
            continue
        sub = sub_number(i)
        ok, n = unlock_once(st, nodes, sub, rnd, token)
        if not ok:
            time.sleep(0.2)
            continue  # the same subscriber again: retrying is safe
        i += 1
        t_ack = st.acked[sub]
        others = [o for o in nodes if o is not n and not o.down]
        pending = set(o.i for o in others)
        while pending and now() - t_ack < 5:
            for o in others:
                if o.i in pending and seen_allow(o.port, sub):
                    pending.discard(o.i)
            if pending:
                time.sleep(0.01)
        with st.lock:
            st.propagation.append(now() - t_ack if not pending else 99.0)
        time.sleep(rnd.uniform(0.05, 0.2))


# ---- the SIP front: Kamailio's dispatcher over the nodes -------------------

class SipFront:
    """Kamailio (docs/kamailio/callbar.cfg with CALLBAR_LIST: the three
    nodes' SIP listeners, probed with OPTIONS, a hash of the caller) and a
    UAS behind it answering 200 to every text callbar lets through."""

    def __init__(self):
        self.dir = WORK + "/kamailio"
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        with open(self.dir + "/nodes.list", "w") as f:
            for p in SIP_PORTS:
                f.write("1 sip:127.0.0.1:%d 0 0\n" % p)
        self.uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.uas.bind(("127.0.0.1", UAS_PORT))
        self.uas.settimeout(0.2)
        self.stop = False
        self.uas_thread = threading.Thread(target=self.serve_uas)
        self.uas_thread.start()
        kam = shutil.which("kamailio") or "/usr/sbin/kamailio"
        self.log = open(self.dir + "/kamailio.log", "w")
        self.proc = subprocess.Popen(
            [kam, "-f", os.path.join(TOP, "docs/kamailio/callbar.cfg"), "-DD", "-E", "-m", "64",
             "-M", "8", "-Y", self.dir, "-w", self.dir, "-l", "udp:127.0.0.1:%d" % KAM_PORT,
             "-A", 'CALLBAR_LIST="%s/nodes.list"' % self.dir,
             "-A", 'NEXT_HOP="sip:127.0.0.1:%d"' % UAS_PORT],
            stdout=self.log, stderr=subprocess.STDOUT)

    def serve_uas(self):
        while not self.stop:
            try:
                data, addr = self.uas.recvfrom(65535)
            except socket.timeout:
                continue
            head = data.decode(errors="replace").split("\r\n\r\n", 1)[0].split("\r\n")
            if not head or head[0].startswith("SIP/2.0"):
                continue
            keep = [l for l in head[1:] if l.split(":", 1)[0].strip().lower() in
                    ("via", "v", "from", "f", "call-id", "i", "cseq")]
            to = [l for l in head[1:] if l.split(":", 1)[0].strip().lower() in ("to", "t")]
            reply = ["SIP/2.0 200 OK"] + keep + [to[0] + ";tag=uas" if to else "To: <sip:x>",
                                                 "Content-Length: 0", "", ""]
            self.uas.sendto("\r\n".join(reply).encode(), addr)

    def close(self):
        self.stop = True
        self.uas_thread.join()
        self.uas.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def sip_message(sock, sub, peer, timeout=8.0):
    """A text from peer to our subscriber through Kamailio: the final status
    (200 delivered, 403 barred...), or 0 when none came within timeout."""
    cid = "%x@cluster" % random.getrandbits(64)
    port = sock.getsockname()[1]
    body = "hi"
    msg = ("MESSAGE sip:%s@127.0.0.1:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%x;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:%s@abroad.invalid>;tag=%x\r\n"
           "To: <sip:%s@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 MESSAGE\r\n"
           "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
           % (sub, KAM_PORT, port, random.getrandbits(48), peer, random.getrandbits(32), sub,
              cid, len(body), body)).encode()
    t0 = now()
    resend = t0
    gap = 0.5
    while now() - t0 < timeout:
        if now() >= resend:  # Timer E: retransmit, 0.5 s, then doubling
            sock.sendto(msg, ("127.0.0.1", KAM_PORT))
            resend = now() + gap
            gap = min(gap * 2, 4)
        sock.settimeout(max(0.01, min(resend, t0 + timeout) - now()))
        try:
            data = sock.recv(65535).decode(errors="replace")
        except socket.timeout:
            continue
        if ("Call-ID: %s" % cid) not in data and ("i: %s" % cid) not in data:
            continue
        status = int(data.split(" ", 2)[1])
        if status >= 200:
            return status
    return 0


def sip_loader(st, rnd, nsubs, out):
    """Texts from abroad through Kamailio, each answer checked like an HTTP
    decision: 200 (delivered) only for an unlocked subscriber, 403 only for
    one never unlocked."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    while not st.stop:
        sub = sub_number(rnd.randrange(nsubs))
        peer = "+8529%07d" % rnd.randrange(10000000)
        t0 = now()
        status = sip_message(sock, sub, peer)
        t1 = now()
        with st.lock:
            out["n"] = out.get("n", 0) + 1
            out["max_s"] = max(out.get("max_s", 0), t1 - t0)
            ack, tried = st.acked.get(sub), st.attempted.get(sub)
            if status not in (200, 403):
                out.setdefault("failed", []).append("SIP text to %s: %s after %.1f s"
                                                    % (sub, status or "no answer", t1 - t0))
            elif ack is not None and ack + PROPAGATION < t0 and status != 200:
                out.setdefault("wrong", []).append("SIP: %s barred after its unlock" % sub)
            elif (tried is None or tried > t1) and status != 403:
                out.setdefault("wrong", []).append("SIP: %s delivered, never unlocked" % sub)
        time.sleep(0.01)
    sock.close()


# ---- checks ----------------------------------------------------------------

def check_everywhere(st, nodes, what):
    """Every unlock acknowledged before now decides allow on every node,
    looked at PROPAGATION later (the load may still be unlocking)."""
    with st.lock:
        subs = [s for s, t in st.acked.items() if t < now()]
    time.sleep(PROPAGATION)
    missing = 0
    for n in nodes:
        for sub in subs:
            if seen_allow(n.port, sub) is not True:
                missing += 1
                if missing <= 5:
                    fail("%s: node %d does not know the acknowledged unlock of %s"
                         % (what, n.i + 1, sub))
    return missing


class ReadinessWatch(threading.Thread):
    """Polls /readyz of every node every 50 ms from before a fault on, and
    keeps (time, all ready) samples."""

    def __init__(self, nodes):
        super().__init__()
        self.nodes, self.samples, self.done = nodes, [], False

    def run(self):
        while not self.done:
            codes = []
            for n in self.nodes:
                try:
                    codes.append(request(n.port, "GET", "/readyz", timeout=1)[0])
                except OSError:
                    codes.append(0)
            self.samples.append((now(), all(c == 200 for c in codes)))
            time.sleep(0.05)

    def ready_again(self, after, bound):
        """Seconds from after to the first sample with every node ready
        that follows one with a node not ready; None past bound."""
        while now() - after < bound:
            seen_down = False
            for t, ok in list(self.samples):
                if t < after:
                    continue
                if not ok:
                    seen_down = True
                elif seen_down:
                    return t - after
            time.sleep(0.05)
        return None


def cluster_status(nodes, *extra):
    return sh(CB, "cluster", "status", *extra,
              *["http://127.0.0.1:%d" % n.port for n in nodes], check=False)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    os.chmod(WORK, 0o755)  # the postgres user's servers live under it
    pair("start", P1, P2, "sync")
    token = sh(CB, "token", "create", "--role", "admin", "--name", "cluster",
               "--tokens", WORK + "/tokens").stdout.strip().splitlines()[-1]
    nodes = [Node(i) for i in range(3)]
    NODES.extend(nodes)
    for n in nodes:
        n.start()
    front = SipFront()
    FRONTS.append(front)
    ok = False
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    for _ in range(50):  # Kamailio up and its probes answered: a text is decided
        if sip_message(probe, sub_number(3999), "+85291234567", timeout=1) == 403:
            ok = True
            break
        time.sleep(0.1)
    probe.close()
    if not ok:
        raise RuntimeError("Kamailio did not start: " + open(front.dir + "/kamailio.log").read()[-3000:])
    rnd = random.Random(16)
    st = State()
    nsubs = 4000
    threads = [threading.Thread(target=decider, args=(st, nodes, random.Random(s), nsubs))
               for s in (1, 2)]
    threads.append(threading.Thread(target=unlocker,
                                    args=(st, nodes, random.Random(3), token, 0, 3000)))
    sip = {}
    threads.append(threading.Thread(target=sip_loader, args=(st, random.Random(4), nsubs, sip)))
    for t in threads:
        t.start()
    try:
        time.sleep(3)

        # 1. The standby stops.  Synchronous commit: the primary waits for it,
        # so a write neither succeeds nor fails until it is back.
        print("== fault 1: the synchronous standby stops", flush=True)
        st.pause_unlocks.set()
        time.sleep(0.5)
        pair("stop", "b")
        probe_sub = sub_number(3500)
        probe = {}

        def probe_write():
            probe["t0"] = now()
            try:
                probe["answer"] = request(nodes[0].port, "PUT", "/v1/unlocks/" + probe_sub,
                                          {"channel": "api", "service": "sms", "direction": "in"},
                                          token=token, timeout=60)
            except OSError as e:
                probe["answer"] = (0, str(e))
            probe["t1"] = now()
        with st.lock:
            st.attempted[probe_sub] = now()
        pt = threading.Thread(target=probe_write)
        pt.start()
        pt.join(3)
        if not pt.is_alive():
            fail("with the synchronous standby stopped an unlock was answered: %s"
                 % (probe.get("answer"),))
        before = st.decisions
        time.sleep(1)
        if st.decisions <= before:
            fail("decisions stopped while the standby was down")
        pair("resume", "b", P2)
        pt.join(30)
        if pt.is_alive() or probe.get("answer", (0,))[0] != 201:
            fail("the waiting unlock did not complete once the standby was back: %s"
                 % (probe.get("answer"),))
        else:
            with st.lock:
                st.acked[probe_sub] = probe["t1"]
            figure("sync_write_waited_s", "%.1f" % (probe["t1"] - probe["t0"]))
        st.pause_unlocks.clear()
        time.sleep(2)

        # 2. One callbar node dies and comes back.
        print("== fault 2: SIGKILL node 3", flush=True)
        nodes[2].kill()
        time.sleep(2)
        took = nodes[2].start()
        figure("node_restart_to_ready_s", "%.2f" % took)
        check_everywhere(st, [nodes[2]], "after node 3's restart")
        time.sleep(2)

        # 3. The primary dies; the standby is promoted.
        print("== fault 3: SIGKILL the primary, promote the standby", flush=True)
        watch = ReadinessWatch(nodes)
        watch.start()
        time.sleep(0.2)
        t0 = now()
        pair("kill", "a")
        # A write now: the CLI cannot find a server that takes writes.
        r = sh(CB, "unlock", sub_number(3600), "--level", "self", "--scope", "sms-in",
               "--registry", URL, check=False, timeout=60)
        if r.returncode != 2:
            fail("CLI unlock with no primary: exit %d, want 2: %s" % (r.returncode, r.stdout))
        else:
            figure("cli_unlock_without_primary_exit", 2)
        pair("promote", "b")
        t_promoted = now() - t0
        ready_after = watch.ready_again(t0, READY_BOUND + 30)
        watch.done = True
        watch.join()
        if ready_after is None:
            fail("/readyz: the nodes did not go 503 and back to 200 within %.0f s of the "
                 "primary's loss" % (READY_BOUND + 30))
        else:
            figure("primary_loss_to_all_nodes_ready_s", "%.2f" % ready_after)
            figure("promotion_done_after_s", "%.2f" % t_promoted)
            figure("promotion_to_all_nodes_ready_s", "%.2f" % (ready_after - t_promoted))
            if ready_after > READY_BOUND:
                fail("every node ready %.1f s after the primary's loss (bound %.0f s)"
                     % (ready_after, READY_BOUND))
        # The CLI's unlock is safe to retry against the new primary.
        r = sh(CB, "unlock", sub_number(3600), "--level", "self", "--scope", "sms-in",
               "--registry", URL, check=False, timeout=60)
        if r.returncode != 0:
            fail("CLI unlock retried after the promotion: exit %d: %s" % (r.returncode, r.stdout))
        else:
            with st.lock:
                st.attempted.setdefault(sub_number(3600), now())
                st.acked[sub_number(3600)] = now()
        time.sleep(3)
    finally:
        st.stop = True
        for t in threads:
            t.join()
        front.close()

    # ---- after the failover ------------------------------------------------
    print("== checks after the failover", flush=True)
    figure("decisions", st.decisions)
    figure("decisions_failed", len(st.failed))
    figure("decisions_wrong", len(st.wrong))
    figure("decisions_resent_from_killed_node", st.refused)
    figure("unlocks_acknowledged", len(st.acked))
    figure("unlock_errors", json.dumps({"%s %s" % k: v for k, v in st.write_errors.items()}))
    figure("unlocks_without_answer", st.unknown_writes)
    for m in st.failed[:5] + st.wrong[:5]:
        fail(m)
    figure("sip_texts", sip.get("n", 0))
    figure("sip_texts_failed", len(sip.get("failed", [])))
    figure("sip_texts_wrong", len(sip.get("wrong", [])))
    figure("sip_text_slowest_s", "%.2f" % sip.get("max_s", 0))
    for m in sip.get("failed", [])[:5] + sip.get("wrong", [])[:5]:
        fail(m)
    if sip.get("n", 0) < 50:
        fail("only %d texts went through Kamailio" % sip.get("n", 0))
    # The dispatcher spread the callers over every node (node 3 since its restart).
    for n in nodes:
        text = str(request(n.port, "GET", "/metrics")[1])
        got = sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
                  if l.startswith("callbar_decisions_total{") and 'front="sip"' in l)
        figure("sip_decisions_node%d" % (n.i + 1), int(got))
        if got == 0:
            fail("node %d decided no SIP text: the dispatcher did not use it" % (n.i + 1))
    prop = sorted(st.propagation)
    if prop:
        p99 = prop[min(len(prop) - 1, int(len(prop) * 0.99))]
        figure("unlock_seen_on_other_nodes_p50_ms", "%.0f" % (prop[len(prop) // 2] * 1000))
        figure("unlock_seen_on_other_nodes_p99_ms", "%.0f" % (p99 * 1000))
        figure("unlock_seen_on_other_nodes_max_ms", "%.0f" % (prop[-1] * 1000))
        if p99 >= PROPAGATION:
            fail("p99 of an unlock reaching the other nodes: %.3f s (goal under 1 s)" % p99)
    lost = check_everywhere(st, nodes, "after the failover")
    figure("acknowledged_unlocks_lost", lost)
    promoted = "postgresql://127.0.0.1:%d/callbar?user=postgres" % P2
    r = sh(CB, "audit", "--verify", "--registry", promoted, check=False)
    if r.returncode != 0:
        fail("audit --verify on the promoted standby: exit %d: %s" % (r.returncode, r.stdout))
    r = cluster_status(nodes)
    if r.returncode != 0:
        fail("cluster status after the failover: exit %d:\n%s" % (r.returncode, r.stdout))

    # ---- one node on another rule file: cluster status and the alert -------
    print("== one node on another rule file", flush=True)
    with open(nodes[1].rules, "a") as f:
        f.write("# a later revision\n")
    status, body = request(nodes[1].port, "POST", "/v1/reload", token=token)
    if status != 200:
        fail("reload on node 2: HTTP %s %s" % (status, body))
    r = cluster_status(nodes)
    if r.returncode != 1 or "the nodes differ" not in r.stdout:
        fail("cluster status with two rule files: exit %d, want 1:\n%s" % (r.returncode, r.stdout))
    alert_on_real_series(nodes)
    with open(nodes[1].rules, "w") as f:
        f.write(RULES)
    request(nodes[1].port, "POST", "/v1/reload", token=token)

    # ---- 4. everything stops and starts again ------------------------------
    print("== fault 4: restart everything", flush=True)
    for n in nodes:
        n.stop()
    pair("stop", "b")
    pair("resume", "b", P2)
    for n in nodes:
        n.start()
    lost2 = check_everywhere(st, nodes, "after restarting everything")
    figure("acknowledged_unlocks_lost_after_restart", lost2)
    r = sh(CB, "audit", "--verify", "--registry", promoted, check=False)
    if r.returncode != 0:
        fail("audit --verify after the restart: exit %d: %s" % (r.returncode, r.stdout))
    r = cluster_status(nodes)
    if r.returncode != 0:
        fail("cluster status after the restart: exit %d:\n%s" % (r.returncode, r.stdout))
    for n in nodes:
        n.stop()


def alert_on_real_series(nodes):
    """CallbarRulesDiffer fires on the series the two nodes really export."""
    lines = []
    for n in nodes:
        status, text = request(n.port, "GET", "/metrics")
        for l in str(text).splitlines():
            if l.startswith("callbar_rules_info{"):
                labels, value = l.rsplit(" ", 1)
                labels = labels[len("callbar_rules_info{"):-1]
                lines.append("      - series: 'callbar_rules_info{job=\"callbar\",instance=\"n%d\",%s}'\n"
                             "        values: '%sx20'\n" % (n.i + 1, labels, value))
    test = ("rule_files:\n  - %s/etc/prometheus/callbar-alerts.yml\n"
            "evaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n%s"
            "    alert_rule_test:\n      - eval_time: 5m\n        alertname: CallbarRulesDiffer\n"
            "        exp_alerts: []\n      - eval_time: 15m\n        alertname: CallbarRulesDiffer\n"
            "        exp_alerts:\n          - exp_labels: {severity: ticket}\n"
            "            exp_annotations:\n"
            "              summary: \"callbar nodes run 2 different rule files\"\n"
            % (TOP, "".join(lines)))
    path = WORK + "/alerts_real.yml"
    with open(path, "w") as f:
        f.write(test)
    r = sh("promtool", "test", "rules", path, check=False)
    if r.returncode != 0:
        fail("CallbarRulesDiffer on the real series:\n%s\n%s" % (r.stdout, test))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a setup failure is a failure, with the logs kept
        fail("%s: %s" % (type(e).__name__, e))
    finally:
        subprocess.run(["sh", PAIR, "clean", PGDIR], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        for fr in FRONTS:
            fr.close()
        for n in NODES:
            if n.proc and n.proc.poll() is None:
                n.proc.kill()
                n.proc.wait()
    if failures:
        print("FAIL cluster: %d failures (logs in %s)" % (len(failures), WORK))
        sys.exit(1)
    shutil.rmtree(WORK, ignore_errors=True)
    print("PASS cluster")
