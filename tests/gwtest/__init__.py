"""Helpers shared by the Python tiers (tests/e2e, tests/hostile) and bench/.

Each module has one job; import what you use, e.g. `from gwtest.clients import Target`.
Nothing here is a pytest fixture: the fixtures stay in each tier's conftest.py.

  gateway        Gateway: one `gateway serve` process over its folders (start, readiness,
                 stop, its log, the pids it publishes); Gateway.create() makes a fresh
                 instance under a tier's root folder from a Layout; Fleet (a test's extra
                 gateways); free_port, prepare_root
  session        the session gateway both tiers start: ryan and gary, `web` and `music`,
                 their owners and keys (session_layout, KEY_SPECS, populate)
  clients        the real clients: OpenSSH ssh and sftp, lftp, sshfs, paramiko (Target, ...)
  refusals       the authentication refusals both tiers assert (password, SHA-1 signatures)
  files          sha256, random_file, pub, generate_keys
  procs          /proc readers: children, cmdline, status, pid_alive, cap_mask, ...
  mounts         /proc/self/mountinfo: mount_table, mounted, fuse_mounted
  quota          the worker's quota.json, a folder's real usage, statvfs through paramiko
  prerequisites  the prerequisite gate of the pytest tiers (skip, exit 77, or fail with CI=true)

bench/run puts tests/ on its path and uses gateway, procs and mounts (no pytest needed).
"""
