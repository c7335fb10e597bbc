#!/usr/bin/env python3
"""A node that misbehaves as BAD_MODE says, for raftsim live's tests of
what its harness does with a user's broken node. Standard library only.

  html        answers every request, /status too, with an HTML page
  silent      accepts connections on $PORT and never answers
  wrong-port  listens on a port the kernel picks, not $PORT (answering /status
              correctly there); $PORT+1 could be another node's
  slow-rpc    answers /status as a follower of term 0, and every RPC after 10 s
"""

import json
import os
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = os.environ.get("BAD_MODE", "")
NAME = os.environ["NODE_ID"]
PORT = int(os.environ["PORT"])


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, ctype, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if MODE == "html":
            self.reply(200, "text/html", "<html><body>hello from a web server</body></html>")
            return
        self.reply(200, "application/json", json.dumps({"id": NAME, "state": "follower", "term": 0, "leader": None}))

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        if MODE == "html":
            self.reply(200, "text/html", "<html></html>")
            return
        if MODE == "slow-rpc":
            time.sleep(10)
        self.reply(200, "application/json", json.dumps({"term": 0, "voteGranted": False, "success": False}))


if MODE == "silent":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", PORT))
    s.listen(16)
    conns = []
    while True:
        c, _ = s.accept()
        conns.append(c)  # held open, never answered
elif MODE in ("html", "slow-rpc", "wrong-port"):
    port = 0 if MODE == "wrong-port" else PORT
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
else:
    sys.exit(f"BAD_MODE={MODE!r}: want html, silent, wrong-port or slow-rpc")
