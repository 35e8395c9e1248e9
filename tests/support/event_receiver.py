#!/usr/bin/env python3
"""A webhook receiver for the gateway's upload events (standard library only).

Checks each POST's X-Gateway-Signature-256 against the shared secret and
appends one JSON line per request to --out:
  {"signature_valid": true, "status": 200, "headers": {...}, "event": {...}}
Answers 200 (or --status), 401 for a bad signature, 503 for the first
--fail-first requests. Listens on 127.0.0.1 (--listen: another address, as
in a container of its own), speaking https with --tls-cert and --tls-key; --port 0 picks a free port and writes it to
--port-file. Stops cleanly on SIGTERM.
"""
import argparse
import hashlib
import hmac
import http.server
import json
import os
import signal
import ssl
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--out", required=True, help="file to append one JSON line per request to")
    ap.add_argument("--listen", default="127.0.0.1", help="the address to listen on")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="where to write the port listened on")
    ap.add_argument("--status", type=int, default=200, help="the answer to a valid request")
    ap.add_argument("--fail-first", type=int, default=0, metavar="N", help="answer 503 to the first N requests")
    ap.add_argument("--delay", type=float, default=0, metavar="SECONDS", help="wait before answering")
    ap.add_argument("--tls-cert", help="serve https with this certificate (PEM) ...")
    ap.add_argument("--tls-key", help="... and this key")
    args = ap.parse_args()

    with open(args.secret_file, "rb") as f:
        secret = f.read().removesuffix(b"\n")  # as the gateway reads --event-secret-file
    lock = threading.Lock()
    seen = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            valid = hmac.compare_digest(expected, self.headers.get("X-Gateway-Signature-256", ""))
            with lock:
                seen[0] += 1
                if not valid:
                    status = 401
                elif seen[0] <= args.fail_first:
                    status = 503
                else:
                    status = args.status
                record = {
                    "signature_valid": valid,
                    "status": status,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "event": json.loads(body) if valid else None,
                }
                with open(args.out, "a") as out:
                    out.write(json.dumps(record) + "\n")
            time.sleep(args.delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the gateway gave up waiting (--delay past its timeout)

        def log_message(self, *_):
            pass  # one line per request in --out is enough

    server = http.server.ThreadingHTTPServer((args.listen, args.port), Handler)
    server.daemon_threads = True
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    if args.port_file:  # written whole, then renamed: a reader never sees half a port
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{server.server_address[1]}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
