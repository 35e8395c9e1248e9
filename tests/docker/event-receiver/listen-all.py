#!/usr/bin/env python3
"""Runs tests/support/event_receiver.py (argv[1], with the rest of argv)
listening on every address of its container instead of 127.0.0.1.

In the Docker tier the receiver is a container of its own that the gateway
reaches over the instance's events network; its loopback is its alone. The
receiver itself is run unchanged: only the address its server binds differs.
"""
import http.server
import runpy
import sys


class EveryAddress(http.server.ThreadingHTTPServer):
    def __init__(self, address, handler):
        super().__init__(("0.0.0.0", address[1]), handler)


http.server.ThreadingHTTPServer = EveryAddress
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
