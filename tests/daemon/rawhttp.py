#!/usr/bin/env python3
"""Send standard input's bytes, as they are, to HOST:PORT and print what
comes back until the server closes or stays silent for 10 seconds.  For
requests curl will not send: a NUL byte inside a header field.

  printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | rawhttp.py 127.0.0.1:8080
"""
import socket
import sys

host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(sys.stdin.buffer.read())
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    pass
sys.stdout.buffer.write(out)
