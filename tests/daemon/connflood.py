#!/usr/bin/env python3
"""Hold many connections open against callbar serve, as an attacker would.

  connflood.py STATUS_FILE [--sip HOST:PORT:N] [--http HOST:PORT:N]
               [--trickle SECONDS] [--sources FIRST_IP:COUNT] [--hold SECONDS]

--sip opens N TCP connections to a SIP listener and sends nothing (idle,
unauthenticated).  --http opens N connections to the HTTP API, sends a
request line and one header line, then (with --trickle S) one more header
line every S seconds, never ending the header: a slow client.  --sources
spreads the connections over COUNT consecutive source addresses from
FIRST_IP (127.0.0.2:10 is 127.0.0.2 .. 127.0.0.11), so a per-source limit
does not refuse them.

Connections open one after another (SIP first).  STATUS_FILE is rewritten
after every step, one line:

  ready=0|1 sip_open=N http_open=N http_closed=N failed=N

ready=1 once every connection was tried; http_closed counts slow clients
the server closed.  The script runs until --hold seconds passed (default
600) or it is killed.  Standard library only; epoll through selectors, so
thousands of sockets are fine (select() is not used).
"""
import argparse
import ipaddress
import os
import selectors
import socket
import sys
import time


def endpoint(spec):
    host, port, n = spec.rsplit(":", 2)
    return host, int(port), int(n)


def sources(spec):
    if not spec:
        return [None]
    first, count = spec.split(":")
    base = ipaddress.IPv4Address(first)
    return [str(base + i) for i in range(int(count))]


def connect(host, port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(10)
    s.connect((host, port))
    s.setblocking(False)
    return s


class Flood:
    def __init__(self, status):
        self.status = status
        self.sel = selectors.DefaultSelector()
        self.sip = self.http = self.closed = self.failed = 0
        self.ready = 0
        self.slow = []

    def write(self):
        tmp = self.status + ".tmp"
        with open(tmp, "w") as f:
            f.write("ready=%d sip_open=%d http_open=%d http_closed=%d failed=%d\n"
                    % (self.ready, self.sip, self.http, self.closed, self.failed))
        os.replace(tmp, self.status)

    def poll(self, timeout):
        for key, _ in self.sel.select(timeout):
            s, kind = key.fileobj, key.data
            try:
                data = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if data:
                continue  # an answer (a refusal); the close follows
            self.sel.unregister(s)
            s.close()
            if kind == "sip":
                self.sip -= 1
            else:
                self.http -= 1
                self.closed += 1
                self.slow = [x for x in self.slow if x is not s]

    def open(self, kind, host, port, src):
        try:
            s = connect(host, port, src)
            if kind == "http":
                s.send(b"GET /healthz HTTP/1.1\r\nHost: callbar\r\n")
                self.slow.append(s)
                self.http += 1
            else:
                self.sip += 1
            self.sel.register(s, selectors.EVENT_READ, kind)
        except OSError:
            self.failed += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("status")
    ap.add_argument("--sip", type=endpoint)
    ap.add_argument("--http", type=endpoint)
    ap.add_argument("--trickle", type=float, default=0)
    ap.add_argument("--sources")
    ap.add_argument("--hold", type=float, default=600)
    a = ap.parse_args()
    srcs = sources(a.sources)
    fl = Flood(a.status)
    fl.write()
    k = 0
    for kind, ep in (("sip", a.sip), ("http", a.http)):
        if not ep:
            continue
        host, port, n = ep
        for i in range(n):
            fl.open(kind, host, port, srcs[k % len(srcs)])
            k += 1
            if i % 200 == 199:
                fl.poll(0)
                fl.write()
    fl.ready = 1
    fl.write()
    end = time.monotonic() + a.hold
    line = 0
    next_trickle = time.monotonic() + a.trickle
    while time.monotonic() < end:
        fl.poll(0.2)
        if a.trickle and time.monotonic() >= next_trickle:
            line += 1
            for s in list(fl.slow):
                try:
                    s.send(b"X-Slow-%d: 1\r\n" % line)
                except OSError:
                    pass  # closed: the poll counts it
            next_trickle += a.trickle
        fl.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
