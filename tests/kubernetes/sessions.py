#!/usr/bin/python3
"""Parallel sftp upload sessions for run-podman-test's replica checks.

  sessions.py run --work DIR --keys KEYS --prefix P --port PORT
                  --known-hosts FILE --sessions N --files M [--size BYTES]
                  [--limit KBITS] [--started FILE]
      Session i logs in as ryan with its own key KEYS/s<i> (so the replica's
      sshd log names the session: the key's fingerprint), makes web/<P><i>
      and puts M files of random bytes there (BYTES each, or 1-16 KiB). Sessions start in waves
      so that at most 3 are unauthenticated at once: behind one load balancer
      every session has one source address, and sshd's PerSourceMaxStartups
      (4) would drop the rest. Writes DIR/sessions.json: per session its exit
      code, seconds, fingerprint and the tail of its errors. With --started,
      touches FILE once every session has logged in.
  sessions.py verify --work DIR --volume PATH --log NAME=FILE... [--expect-all]
      Assigns each session to the replica whose log accepted its key, checks
      every file on the volume (PATH/<P><i>/f<j>) against its sha256, and
      prints one JSON line: per replica the sessions it served, ok and failed,
      files missing and files torn (present but with other bytes). Exit 1
      when a file is torn, when a session that succeeded lost a file, or,
      with --expect-all, when any session failed or a replica served none.
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time


def fingerprint(pub):
    out = subprocess.run(["ssh-keygen", "-l", "-f", pub], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def session_files(work, i, files, size):
    src = os.path.join(work, "src", f"s{i}")
    os.makedirs(src, exist_ok=True)
    digests = {}
    for j in range(files):
        data = os.urandom(size if size else 1024 + (i * 7919 + j * 104729) % 15000)
        with open(os.path.join(src, f"f{j}"), "wb") as f:
            f.write(data)
        digests[f"f{j}"] = hashlib.sha256(data).hexdigest()
    return src, digests


def run(a):
    keys = a.keys
    manifest = {}
    for i in range(a.sessions):
        src, digests = session_files(a.work, i, a.files, a.size)
        batch = os.path.join(a.work, f"batch.s{i}")
        with open(batch, "w") as f:
            f.write(f"pwd\n-mkdir web/{a.prefix}{i}\ncd web/{a.prefix}{i}\n")
            for j in range(a.files):
                f.write(f"put {src}/f{j} f{j}\n")
        manifest[i] = {"fingerprint": fingerprint(os.path.join(keys, f"s{i}.pub")), "dir": f"{a.prefix}{i}",
                       "sha256": digests}
    with open(os.path.join(a.work, "manifest.json"), "w") as f:
        json.dump(manifest, f)

    def start(i):
        cmd = ["sftp", "-b", os.path.join(a.work, f"batch.s{i}"), "-P", str(a.port),
               "-i", os.path.join(keys, f"s{i}"), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
               "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={a.known_hosts}",
               "-o", "UpdateHostKeys=no", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=2",
               "-o", "ServerAliveCountMax=3"]
        if a.limit:
            cmd += ["-l", str(a.limit)]
        cmd.append("ryan@127.0.0.1")
        out = open(os.path.join(a.work, f"out.s{i}"), "w")
        err = open(os.path.join(a.work, f"err.s{i}"), "w")
        return {"i": i, "proc": subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL),
                "t0": time.monotonic(), "authed": False}

    def authenticated(s):
        # sftp echoes each batch command as it runs: the first, pwd, answers
        # only after login.
        with open(os.path.join(a.work, f"out.s{s['i']}")) as f:
            return "Remote working directory" in f.read()

    pending = list(range(a.sessions))
    running = []
    deadline = time.monotonic() + 120
    while pending or not all(s["authed"] or s["proc"].poll() is not None for s in running):
        for s in running:
            if not s["authed"] and (s["proc"].poll() is not None or authenticated(s)):
                s["authed"] = True
        unauthenticated = sum(1 for s in running if not s["authed"])
        while pending and unauthenticated < 3:
            running.append(start(pending.pop(0)))
            unauthenticated += 1
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if a.started:
        open(a.started, "w").close()
    results = {}
    for s in running:
        try:
            rc = s["proc"].wait(timeout=max(1, deadline + 120 - time.monotonic()))
        except subprocess.TimeoutExpired:
            s["proc"].kill()
            rc = -9
        with open(os.path.join(a.work, f"err.s{s['i']}")) as f:
            err = f.read().strip().splitlines()[-3:]
        results[s["i"]] = {"rc": rc, "seconds": round(time.monotonic() - s["t0"], 2), "errors": err}
    with open(os.path.join(a.work, "sessions.json"), "w") as f:
        json.dump(results, f)
    failed = [i for i, r in results.items() if r["rc"] != 0]
    print(f"{len(results)} sessions, {len(failed)} failed: {failed}")


def verify(a):
    with open(os.path.join(a.work, "manifest.json")) as f:
        manifest = {int(k): v for k, v in json.load(f).items()}
    with open(os.path.join(a.work, "sessions.json")) as f:
        results = {int(k): v for k, v in json.load(f).items()}
    served = {}
    for item in a.log:
        name, _, path = item.partition("=")
        with open(path, errors="replace") as f:
            text = f.read()
        for fp in re.findall(r"Accepted publickey for ryan from \S+ port \d+ ssh2: \S+ (SHA256:\S+)", text):
            served[fp] = name
    report = {}
    bad = []
    for i, m in manifest.items():
        replica = served.get(m["fingerprint"], "none")
        r = report.setdefault(replica, {"sessions": [], "ok": [], "failed": [], "missing": 0, "torn": 0})
        r["sessions"].append(i)
        rc = results.get(i, {}).get("rc", -1)
        (r["ok"] if rc == 0 else r["failed"]).append(i)
        for name, digest in m["sha256"].items():
            path = os.path.join(a.volume, m["dir"], name)
            try:
                with open(path, "rb") as f:
                    got = hashlib.sha256(f.read()).hexdigest()
            except FileNotFoundError:
                r["missing"] += 1
                if rc == 0:
                    bad.append(f"session {i} succeeded but {m['dir']}/{name} is missing")
                continue
            if got != digest:
                r["torn"] += 1
                bad.append(f"{m['dir']}/{name} has other bytes than were uploaded")
    if a.expect_all:
        for replica, r in report.items():
            if r["failed"]:
                bad.append(f"sessions {r['failed']} on {replica} failed: "
                           + "; ".join(" / ".join(results[i]["errors"]) for i in r["failed"][:2]))
        names = {item.partition("=")[0] for item in a.log}
        if set(report) != names:
            spread = {k: len(v["sessions"]) for k, v in report.items()}
            bad.append(f"sessions per replica {spread}, expected some on each of {sorted(names)}")
    print(json.dumps(report, sort_keys=True))
    for line in bad[:20]:
        print(f"FAIL: {line}", file=sys.stderr)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--work", required=True)
    r.add_argument("--keys", required=True)
    r.add_argument("--prefix", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--known-hosts", required=True)
    r.add_argument("--sessions", type=int, required=True)
    r.add_argument("--files", type=int, required=True)
    r.add_argument("--size", type=int, default=0)
    r.add_argument("--limit", type=int, default=0)
    r.add_argument("--started")
    v = sub.add_parser("verify")
    v.add_argument("--work", required=True)
    v.add_argument("--volume", required=True)
    v.add_argument("--log", action="append", required=True)
    v.add_argument("--expect-all", action="store_true")
    a = ap.parse_args()
    if a.cmd == "run":
        run(a)
        return 0
    return verify(a)


if __name__ == "__main__":
    sys.exit(main())
