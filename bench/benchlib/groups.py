"""The groups of measurements, each undoing its own mounts and servers."""

import os

from . import setup
from .configs import PEERS, FusePeer, GatewayView, Native
from .local import LocalRunner
from .quota import QuotaRunner
from .scale import ScaleRunner
from .servers import GatewaySftp, PlainSftp
from .sftp import SftpRunner


def run_local(env, backings, gateways):
    mark = len(env.cleanup)
    configs = {}
    for name, b in backings.items():
        cfgs = [Native(b), GatewayView(b, gateways[name], env.user)]
        for peer, argv in PEERS.items():
            mnt = os.path.join(env.work, "mnt", name, peer)
            log_path = os.path.join(env.logs, f"{peer}-{name}.log")
            cfgs.append(FusePeer(peer, b, argv, mnt, log_path, env.pidfile, env.cpu).start(env.cleanup))
        configs[name] = cfgs
        for c in cfgs:
            env.config_notes.setdefault(f"local: {c.name}", c.note())
    try:
        LocalRunner(env).run(configs)
    finally:
        env.cleanup.run_until(mark)


def run_sftp(env, backings, gateways, names, ports):
    """ports: backing name -> the plain sshd's port."""
    mark = len(env.cleanup)
    try:
        runner = SftpRunner(env)
        runner.prepare_client()
        servers = {}
        for name in names:
            b, gw = backings[name], gateways[name]
            plain = PlainSftp(env, b, gw, ports[name]).start(env.cleanup)
            servers[name] = [plain, GatewaySftp(b, gw)]
            for srv in servers[name]:
                env.config_notes.setdefault(f"sftp: {srv.name}", srv.note())
        runner.run(servers)
    finally:
        env.cleanup.run_until(mark)


def run_scale(env, port):
    ScaleRunner(env, port).run()


def run_quota(env, backings, ports):
    """ports: backing name -> the port of that backing's quota gateway."""
    mark = len(env.cleanup)
    try:
        runner = QuotaRunner(env, setup.start_gateway)
        runner.scan(env.scan_binary)
        names = [n for n in env.mode.sftp_backings if n in backings]
        runner.sftp({n: backings[n] for n in names}, ports)
    finally:
        env.cleanup.run_until(mark)
