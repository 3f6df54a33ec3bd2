#!/usr/bin/env python3
"""What asynchronous replication loses, measured (docs/cluster.md; run by
hand, it asserts nothing: its figures go to BENCHMARKS.md).

Each round: a primary and an *asynchronous* standby (pg_pair.sh ... async),
one `callbar serve` node on the multi-host URL, four clients making unlocks
as fast as the node acknowledges them; the primary is killed (SIGKILL) in
the middle of it and the standby promoted.  Then:

  lost      unlocks the node acknowledged (201) that the promoted standby
            does not hold: what asynchronous replication loses;
  stale     of those, how many the node still decides as unlocked (its copy
            has them; the registry does not);
  missed    unlocks made on the new primary after the failover that the node
            has not seen 2 s later: the registry's change sequence started
            again below what the node had followed, so "changes since"
            skips them until the node is restarted.

    async_loss.py CALLBAR TESTS_DIR [ROUNDS]
"""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the cluster test's nodes, requests and pair)

ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
# How far behind the standby is when the primary dies: the primary's WAL
# sender is stopped (SIGSTOP) this long before the kill (and killed with
# it), as a slow or distant link would leave the standby.  0: a standby on
# the same switch, streaming as it comes.
LAG = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5


def walsender():
    """The primary's WAL sender: a child of its postmaster."""
    with open(run.PGDIR + "/a/postmaster.pid") as f:
        pm = f.readline().strip()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if ppid == pm and b"walsender" in cmd:
            return int(pid)
    return None


def acked_in_registry(url):
    out = run.sh(run.CB, "export", "--registry", url).stdout
    return set(l.split(",")[1] for l in out.splitlines() if l and l[0].isdigit())


def one_round(k):
    os.makedirs(run.WORK, exist_ok=True)
    os.chmod(run.WORK, 0o755)
    key = run.WORK + "/callbar.key"  # export needs the document key of a shared registry
    if not os.path.exists(key):
        fd = os.open(key, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, os.urandom(32).hex().encode())
        os.close(fd)
    os.environ["CALLBAR_KEY"] = key
    run.pair("start", run.P1, run.P2, "async")
    token = run.sh(run.CB, "token", "create", "--role", "admin", "--name", "a%d" % k,
                   "--tokens", run.WORK + "/tokens").stdout.strip().splitlines()[-1]
    node = run.Node(0)
    run.NODES.append(node)
    node.start()
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def client(c):
        i = 0
        while not stop.is_set():
            sub = "+8613%d%08d" % (c + 1, i)
            i += 1
            try:
                st, _ = run.request(node.port, "PUT", "/v1/unlocks/" + sub,
                                    {"channel": "api", "service": "sms", "direction": "in"},
                                    token=token, timeout=5)
            except OSError:
                continue
            if st == 201:
                with lock:
                    acked.append(sub)
            elif st == 503:
                time.sleep(0.05)
    ts = [threading.Thread(target=client, args=(c,)) for c in range(4)]
    for t in ts:
        t.start()
    time.sleep(1.5)
    ws = walsender() if LAG > 0 else None
    if ws:
        os.kill(ws, signal.SIGSTOP)
        time.sleep(LAG)
        os.kill(ws, signal.SIGKILL)  # it dies with the primary, what it held unsent
    n_before = len(acked)
    run.pair("kill", "a")
    run.pair("promote", "b")
    time.sleep(1.0)
    stop.set()
    for t in ts:
        t.join()
    promoted = "postgresql://127.0.0.1:%d/callbar?user=postgres" % run.P2
    held = acked_in_registry(promoted)
    lost = [s for s in acked if s not in held]
    stale = sum(1 for s in lost if run.seen_allow(node.port, s))
    # New unlocks straight on the new primary: does the node follow them?
    fresh = ["+86139%08d" % (k * 100 + j) for j in range(20)]
    for s in fresh:
        run.sh(run.CB, "unlock", s, "--level", "self", "--scope", "sms-in", "--registry",
               promoted)
    time.sleep(2)
    missed = sum(1 for s in fresh if not run.seen_allow(node.port, s))
    node.stop()
    run.pair("clean")
    print("ROUND %d acked=%d (before the kill %d) lost=%d stale=%d missed_after=%d/20"
          % (k, len(acked), n_before, len(lost), stale, missed), flush=True)
    return len(acked), len(lost), stale, missed


def main():
    tot = [0, 0, 0, 0]
    for k in range(ROUNDS):
        r = one_round(k)
        tot = [a + b for a, b in zip(tot, r)]
    print("FIGURE async_rounds %d (standby %.1f s behind)" % (ROUNDS, LAG))
    print("FIGURE async_acked %d" % tot[0])
    print("FIGURE async_acked_lost %d" % tot[1])
    print("FIGURE async_lost_still_allowed_by_node %d" % tot[2])
    print("FIGURE async_new_unlocks_missed_by_node %d of %d" % (tot[3], 20 * ROUNDS))


if __name__ == "__main__":
    try:
        main()
    finally:
        run.sh("sh", run.PAIR, "clean", run.PGDIR, check=False)
        for n in run.NODES:
            if n.proc and n.proc.poll() is None:
                n.proc.kill()
                n.proc.wait()
        run.shutil.rmtree(run.WORK, ignore_errors=True)
