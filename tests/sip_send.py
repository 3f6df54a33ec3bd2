#!/usr/bin/env python3
"""Send one SIP request over UDP and print the answer's status line and
headers (tests only).  usage: sip_send.py PORT METHOD RURI FROM [TO]"""
import socket
import sys

port, method, ruri, frm = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
to = sys.argv[5] if len(sys.argv) > 5 else ruri
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
lp = s.getsockname()[1]
msg = (f"{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bK-send-{lp}\r\n"
       f"Max-Forwards: 70\r\nFrom: <{frm}>;tag=s{lp}\r\nTo: <{to}>\r\n"
       f"Call-ID: send-{lp}@callbar.test\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n")
s.sendto(msg.encode(), ("127.0.0.1", port))
print(s.recv(65535).decode("utf-8", "replace"))
