#!/usr/bin/env python3
"""callbar capacity model: nodes, memory, registry load for a country.

Prints the table of docs/capacity.md for the given parameters, from the
figures measured on the reference machine (MEASURED below: each with the
command that produced it, BENCHMARKS.md has the runs).  Every output line
is arithmetic on those figures and the parameters; nothing else.

    python3 tools/capacity.py --lines 1.4e9 --registrations 1.4e8 \
        --calls 200000 --texts 300000
"""
import argparse
import math

# Figures measured here (x86_64 VM, 2 cores shared with other work), with
# the command that gives each.  Change them when a run on the target
# hardware gives others.
MEASURED = {
    # build/bench/bench_scale 1000000 100000000: table, load factor, header
    "bytes_per_record": 15.06,
    # bench_scale: what a decision costs more with 100 M records than with
    # 1 M (the unlock probe misses the cache): 1/1.12 M - 1/12.58 M s
    "decide_extra_us_100m": 0.81,
    # sh bench/sip_kamailio.sh build-rel 5000 20 3: CPU (user + system,
    # kernel included) per SIP INVITE decided and answered, ACK filter on
    "sip_cpu_us_per_call": 5.5,
    # sh bench/http_decide.sh build 5 32: POST /v1/decide, one event a
    # request, 2 cores shared with the load generator: per core, at least
    "http_decisions_per_core": 47000,
    # sh bench/replay.sh build --registered 10000000 --peak 15000
    # --hour-ms 5000 --regs 50 --solo-s 15 --conns 16 (three nodes, one
    # PostgreSQL, the driver, 2 shared cores): each node's utime + stime
    # over 15 s of one front alone at 15,000 a second, over the decisions
    # it answered; the whole daemon (follower, metrics, the HTTP or SIP
    # stack, kernel), not only the decision.  Run after merging main
    # (14:14Z): 12.4 and 21.9; the run before it (13:23Z) 8.9 and 19.5; at
    # 5,000 a second 20.0 and 29.7 (a wake-up a message at low rates).
    # The larger of the two runs at 15,000:
    "replay_sip_cpu_us": 12.4,
    "replay_http_cpu_us": 21.9,
    # build/bench/bench_ready DIR 10000000 PG_URL: snapshot read and
    # checked, MB/s, page cache warm (a restart); the "cold" read (pages
    # dropped with posix_fadvise) ran as fast on this VM's host-cached disk,
    # so put the target disk's sequential read here
    "snapshot_read_warm_mb_s": 560.0,
    "snapshot_read_cold_mb_s": 560.0,
    # build/bench/bench_ready DIR 100000000 PG_URL: COPY binary into the set,
    # 96.6 M records in 297 s (load average 6 to 9; 29.7 M took 33.4 s on a
    # quieter run, 890,000 a second): the slower, at the size that matters
    "pg_copy_records_per_s": 325000.0,
    # (the daemon's full load peaked at 15.9 GB for 96.6 M records while
    # libpq held the whole result; it now streams the rows in single-row
    # mode, so its memory is the table's: the "peak" row below)
    # bench_ready at 30 M: PostgreSQL bytes a record (unlock table 3,674 MB
    # + its 4 indexes 2,027 MB, / 30 M; the same at 10 M)
    "pg_bytes_per_record": 190.0,
    # bench_ready: audit bytes an entry (table + indexes, growth over 2,000
    # unlocks at 10 M and 30 M), WAL an unlock (pg_current_wal_lsn before
    # and after; 1,230 at 100 k, 1,642 at 30 M)
    "audit_bytes_per_entry": 565.0,
    "wal_bytes_per_unlock": 1642.0,
    # bench_ready at 10 M and 30 M: one client, unlocks one after another,
    # p50 0.93 and 0.96 ms, so about 1,000/s (bench_registry: 2,600/s on a quiet day);
    # the lower figure is the slow-fsync disk of the first registry runs
    "pg_unlocks_per_s": 1000.0,
    "pg_unlocks_per_s_slow_disk": 250.0,
    # what a follower reads a change: the record row (122 B at 10 M) and
    # its audit entry (430 B a row), as text, with protocol: an estimate
    "follow_bytes_per_change": 700.0,
}
PROCESS_OVERHEAD_MB = 256  # rules, numbering plan, HTTP/SIP buffers, libraries


def fmt_bytes(b):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(b) < 1000 or unit == "TB":
            return f"{b:,.1f} {unit}"
        b /= 1000.0
    return f"{b:,.1f} TB"


def model(a):
    m = MEASURED
    rows = []
    dec_calls = a.calls * a.decisions_per_call
    dec_texts = a.texts * a.decisions_per_text
    sip_dec = dec_calls * a.sip_share + (dec_texts if a.texts_via == "sip" else 0)
    http_dec = dec_calls * (1 - a.sip_share) + (dec_texts if a.texts_via == "http" else 0)
    extra = m["decide_extra_us_100m"] if a.registrations > 1e7 else 0.0
    cores = (sip_dec * m["sip_cpu_us_per_call"] / 1e6 + http_dec / m["http_decisions_per_core"]
             + (sip_dec + http_dec) * extra / 1e6)
    cores_needed = cores / a.utilisation
    nodes_cpu = math.ceil(cores_needed / a.cores_per_node)
    nodes = max(nodes_cpu + a.spare_nodes, a.min_nodes)
    rows.append(("peak decisions a second", f"{sip_dec + http_dec:,.0f}",
                 f"SIP {sip_dec:,.0f}, HTTP {http_dec:,.0f}"))
    rows.append(("cores busy at peak", f"{cores:,.1f}",
                 f"SIP {m['sip_cpu_us_per_call']} us a call; HTTP "
                 f"{m['http_decisions_per_core']:,} a core; + {extra} us a decision for a "
                 f"table past the cache"))
    cores_replay = (sip_dec * m["replay_sip_cpu_us"] + http_dec * m["replay_http_cpu_us"]) / 1e6
    rows.append(("cores busy at peak, replay's figures", f"{cores_replay:,.1f}",
                 f"SIP {m['replay_sip_cpu_us']} us, HTTP {m['replay_http_cpu_us']} us a decision "
                 f"through a whole node (bench/replay.sh); a cross-check, the nodes below use "
                 f"the larger of the two"))
    cores = max(cores, cores_replay)
    cores_needed = cores / a.utilisation
    nodes_cpu = math.ceil(cores_needed / a.cores_per_node)
    nodes = max(nodes_cpu + a.spare_nodes, a.min_nodes)
    rows.append(("decision nodes", f"{nodes}",
                 f"{nodes_cpu} for CPU at {a.utilisation:.0%} of {a.cores_per_node} cores, "
                 f"+{a.spare_nodes} spare, at least {a.min_nodes}"))
    base = a.registrations * m["bytes_per_record"]
    delta = 65536 * 16 * 2  # DELTA_MAX changed subscribers before a merge
    # A merge holds the old base and its copy; a full load holds the table
    # grown by doubling (20.57 B a record at 100 M) and the fitted one.
    peak = max(2 * base + delta, base * (1 + 20.57 / m["bytes_per_record"]))
    peak += PROCESS_OVERHEAD_MB * 1e6
    rows.append(("unlock set per node", fmt_bytes(base),
                 f"{a.registrations:,.0f} records x {m['bytes_per_record']} B"))
    rows.append(("memory per node, peak", fmt_bytes(peak),
                 "2.4 x the set while a full load fits it (2 x at a merge), + process"))
    rows.append(("memory per node, a full load from PostgreSQL", fmt_bytes(peak),
                 "the peak above: the rows are streamed (single-row mode) into the set"))
    rows.append(("snapshot file per node", fmt_bytes(base + 272), "the table as in memory"))
    warm = base / 1e6 / m["snapshot_read_warm_mb_s"]
    cold = base / 1e6 / m["snapshot_read_cold_mb_s"]
    full = a.registrations / m["pg_copy_records_per_s"]
    rows.append(("ready from snapshot", f"{warm:,.1f} s warm, {cold:,.1f} s cold",
                 "read + checksum + check, then catch-up"))
    rows.append(("ready from PostgreSQL", f"{full:,.0f} s", "COPY binary of every record"))
    changes_s = a.changes_per_day / 86400.0
    peak_changes = changes_s * a.change_peak
    cap = m["pg_unlocks_per_s"]
    rows.append(("registry writes at peak", f"{peak_changes:,.1f} /s",
                 f"{a.changes_per_day:,.0f} a day x peak factor {a.change_peak}; one primary "
                 f"does {cap:,.0f}/s ({m['pg_unlocks_per_s_slow_disk']:,.0f}/s on slow fsync): "
                 f"{peak_changes / cap:.1%} of it"))
    rows.append(("replication to a standby", f"{fmt_bytes(peak_changes * m['wal_bytes_per_unlock'])}/s",
                 f"WAL {m['wal_bytes_per_unlock']:,.0f} B an unlock"))
    rows.append(("following, all nodes", f"{fmt_bytes(peak_changes * m['follow_bytes_per_change'] * nodes)}/s",
                 f"{nodes} nodes x {m['follow_bytes_per_change']:,.0f} B a change"))
    reg_db = a.registrations * m["pg_bytes_per_record"]
    rows.append(("registry records (PostgreSQL)", fmt_bytes(reg_db),
                 f"{m['pg_bytes_per_record']:,.0f} B a record with indexes; history adds a row a change"))
    audit_year = a.changes_per_day * 365 * (m["audit_bytes_per_entry"] + m["pg_bytes_per_record"])
    rows.append(("audit + history growth a year", fmt_bytes(audit_year),
                 f"{m['audit_bytes_per_entry']:,.0f} B an entry + a record row a change"))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lines", type=float, default=1.4e9, help="lines in the country")
    p.add_argument("--registrations", type=float, default=None,
                   help="unlock records (default: a tenth of the lines)")
    p.add_argument("--calls", type=float, default=200000, help="peak call attempts a second")
    p.add_argument("--texts", type=float, default=300000, help="peak texts a second")
    p.add_argument("--decisions-per-call", type=float, default=2,
                   help="decisions a call attempt (2: out at the caller's side, in at the callee's)")
    p.add_argument("--decisions-per-text", type=float, default=2)
    p.add_argument("--sip-share", type=float, default=1.0, help="share of call decisions over SIP")
    p.add_argument("--texts-via", choices=("http", "sip"), default="http")
    p.add_argument("--cores-per-node", type=int, default=16)
    p.add_argument("--utilisation", type=float, default=0.5, help="CPU share planned at peak")
    p.add_argument("--spare-nodes", type=int, default=2, help="nodes beyond the CPU need (N+2)")
    p.add_argument("--min-nodes", type=int, default=3)
    p.add_argument("--changes-per-day", type=float, default=None,
                   help="unlocks and relocks a day (default: 1%% of registrations)")
    p.add_argument("--change-peak", type=float, default=5, help="peak hour over the day's mean")
    a = p.parse_args()
    if a.registrations is None:
        a.registrations = a.lines / 10
    if a.changes_per_day is None:
        a.changes_per_day = a.registrations / 100
    print(f"callbar capacity: {a.lines:,.0f} lines, {a.registrations:,.0f} registrations, "
          f"{a.calls:,.0f} call attempts/s and {a.texts:,.0f} texts/s at peak")
    print()
    print("| quantity | value | from |")
    print("| --- | --- | --- |")
    for name, value, note in model(a):
        print(f"| {name} | {value} | {note} |")


if __name__ == "__main__":
    main()
